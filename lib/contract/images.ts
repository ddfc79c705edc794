/** The images part of the contract: POST, GET and DELETE /training/tasks/images. */
import type { ErrorCode } from "../errors.ts";
import { DEFAULT_LIMIT, MAX_LIMIT } from "../model.ts";
import { type OPERATION_ERRORS, operationIdOf } from "./errors.ts";
import { DELETE_REQUEST_EXAMPLES, IMAGE_EXAMPLE, IMAGE_PAGE_EXAMPLE, REGISTER_REQUEST_EXAMPLES } from "./examples.ts";
import { IDEMPOTENCY_KEY_PARAMETER, queryParameter, REPLAYED_HEADERS } from "./parameters.ts";
import { json, type Operation, ref } from "./shapes.ts";

type ErrorsOf = (operation: keyof typeof OPERATION_ERRORS, extra?: readonly ErrorCode[]) => Operation["responses"];

/** The operations of /training/tasks/images; the DELETE takes an Idempotency-Key when `deleteKeyed` (lib/routes.ts). */
export function imagePaths(
  errorsOf: ErrorsOf,
  deleteKeyed: boolean,
): Record<"post" | "get" | "delete", Omit<Operation, "security">> {
  return {
    post: {
      operationId: operationIdOf("RegisterImages"),
      tags: ["images"],
      summary: "Register images of a task",
      description:
        "Idempotent upsert: a new image gets the task's next order_id and starts in no set; a known img_id gets its name (and the fields given) updated and keeps its order_id and set.",
      parameters: [IDEMPOTENCY_KEY_PARAMETER],
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("RegisterRequest"), examples: REGISTER_REQUEST_EXAMPLES } },
      },
      responses: {
        "200": {
          description: "Registered",
          headers: REPLAYED_HEADERS,
          ...json(ref("RegisterResponse"), {
            legacy: {
              summary: "Three new images",
              value: {
                code: 0,
                msg: "图像登记成功",
                task_id: "2018072049434026765",
                added: 3,
                updated: 0,
                unchanged: 0,
                total: 3,
              },
            },
          }),
        },
        ...errorsOf("RegisterImages"),
      },
    },
    get: {
      operationId: operationIdOf("GetImages"),
      tags: ["images"],
      summary: "Look up one image (with img_id), or list the task's images (without)",
      description:
        "With `img_id`: the image, with its set in the live split (`set_type_id`, null when unassigned); an unknown or deleted image is 1026. Without it: one page of the task's images in ascending order_id, deleted ones left out; `next_cursor` only when more images follow. Other query parameters are ignored.",
      parameters: [
        queryParameter(
          "task_id",
          true,
          { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
          "The task; may come in double quotes, as the legacy platform sends it.",
        ),
        queryParameter(
          "img_id",
          false,
          { type: "string", pattern: '^"?[0-9A-Za-z_-]{1,64}"?$' },
          "The image (1011 when malformed); without it, the task's images.",
        ),
        queryParameter(
          "limit",
          false,
          { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          "Images per page, without img_id (1012).",
        ),
        queryParameter(
          "cursor",
          false,
          { type: "string" },
          "next_cursor of the previous page, without img_id (1012, 1015).",
        ),
      ],
      responses: {
        "200": {
          description: "The image (with img_id), or a page of the task's images (without)",
          ...json(
            { oneOf: [ref("ImageAnswer"), ref("ImagePage")] },
            {
              image: {
                summary: "One image, in training",
                value: { code: 0, msg: "图像查询成功", task_id: "2018072049434026765", image: IMAGE_EXAMPLE },
              },
              images: { summary: "A page of the task's images, more to follow", value: IMAGE_PAGE_EXAMPLE },
            },
          ),
        },
        ...errorsOf("GetImages"),
      },
    },
    delete: {
      operationId: operationIdOf("DeleteImages"),
      tags: ["images"],
      summary: "Delete images of a task (logically, as the legacy is_del)",
      description:
        "A deleted image leaves every set listing and the image listing, of every split, keeps its order_id (never given to another image), is in no set of any later split and is not counted in the task's images. Deleting it again changes nothing (already_deleted); registered again, it comes back as a new image.",
      ...(deleteKeyed ? { parameters: [IDEMPOTENCY_KEY_PARAMETER] } : {}),
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("DeleteRequest"), examples: DELETE_REQUEST_EXAMPLES } },
      },
      responses: {
        "200": {
          description: "Deleted",
          ...(deleteKeyed ? { headers: REPLAYED_HEADERS } : {}),
          ...json(ref("DeleteResponse"), {
            legacy: {
              summary: "One image deleted, one unknown",
              value: {
                code: 0,
                msg: "图像删除成功",
                task_id: "2018072049434026765",
                deleted: 1,
                already_deleted: 0,
                not_found: ["2018072099999999999"],
                total: 2,
              },
            },
          }),
        },
        ...errorsOf("DeleteImages", deleteKeyed ? [1024, 1025] : []),
      },
    },
  };
}
