/**
 * A fake of EventBridge Scheduler on the wire: a loopback HTTP server speaking the REST-JSON
 * protocol of CreateSchedule (POST /schedules/{Name}), UpdateSchedule (PUT), GetSchedule (GET
 * ?groupName=) and DeleteSchedule (DELETE ?groupName=). A real `SchedulerClient` pointed at its
 * `url` serializes, signs, parses errors and classifies them exactly as against AWS; the fake keeps
 * schedules by (group, name), answers ResourceNotFoundException (404) and ConflictException (409),
 * records every request, and fails the next calls on demand (`failNext`).
 *
 * schedules.ts: the requests as recorded and the table that answers them; server.ts: the server.
 */

export { type SchedulerFake, startSchedulerFake } from "./server.ts";
