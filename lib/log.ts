import { LogFormatter, Logger, LogItem, LogLevelThreshold } from "@aws-lambda-powertools/logger";
import type { LogAttributes, LogLevel, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";

/** The service name on every log line and the `service` dimension of every metric. */
export const SERVICE_NAME = "training-sets";

export type Level = "debug" | "info" | "warn" | "error";

/**
 * Where a finished JSON line goes. In Lambda straight to stdout (stderr for warn and error), as
 * Powertools does: the runtime's console would prefix the line and CloudWatch could no longer read
 * it as JSON (nor as EMF). Anywhere else through the global console, so `npm run invoke` can move
 * logs off stdout and a test can read them.
 */
export function writeLine(line: string, stream: "stdout" | "stderr" = "stdout"): void {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
    process[stream].write(`${line}\n`);
  } else if (stream === "stderr") {
    console.error(line);
  } else {
    console.log(line);
  }
}

/**
 * The service's line shape: `level` (lower case) and `msg` first, as the service always logged,
 * then time, service, the Lambda context, the correlation id and the line's own fields.
 */
class LineFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const lambda = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        msg: attributes.message,
        time: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        function_name: lambda?.functionName,
        function_request_id: lambda?.awsRequestId,
        cold_start: lambda?.coldStart,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additional);
  }
}

/** Powertools' Logger, printing through `writeLine`. */
class ServiceLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const line = JSON.stringify(log.getAttributes(), this.getJsonReplacer());
    writeLine(line, logLevel >= LogLevelThreshold.WARN ? "stderr" : "stdout");
  }
}

let instance: Logger | undefined;

/**
 * The one logger of the service (Powertools Logger), made on first use so that LOG_LEVEL (default
 * INFO) is read after a script such as `npm start` has set it.
 */
export function serviceLogger(): Logger {
  instance ??= new ServiceLogger({
    serviceName: SERVICE_NAME,
    logLevel: (process.env.LOG_LEVEL?.toUpperCase() ?? "INFO") as LogLevel,
    logFormatter: new LineFormatter(),
  });
  return instance;
}

/** One JSON line through the service logger, if `level` is at or above LOG_LEVEL. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  serviceLogger()[level](msg, fields);
}
