import { expect } from "vitest";
import { ServiceError } from "../../../lib/errors.ts";
import type { FieldPolicy } from "../../../lib/http/fields.ts";
import { parseRegisterRequest } from "../../../lib/http/validate.ts";

/** The request parsers' refusals, as the tests of lib/http/validate.ts, queries.ts and values.ts assert them. */
const MSG = {
  1001: "请求体必须是 JSON 对象",
  1002: "task_id 缺失或格式错误",
  1004: "set_type_id 必须是 0（训练）、1（测试）或 2（验证）",
  1005: "验证集中图像的个数不能小于0",
  1006: "测试集中图像的个数不能小于0",
  1009: "训练集中图像的个数不能小于等于0",
  1012: "分页参数错误",
  1016: "seed 必须是 1–128 个字符的字符串或安全整数",
} as const;
type Code = keyof typeof MSG;

export function thrown(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error("expected a ServiceError, nothing was thrown");
}

/** Asserts a 400 with the code and its exact message. */
export function expectRefused(fn: () => unknown, code: Code | 1011, message: string = MSG[code as Code]) {
  const error = thrown(fn);
  expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code, status: 400, message });
}

export const expectImagesRefused = (body: unknown, field: string, policy?: FieldPolicy) =>
  expectRefused(() => parseRegisterRequest(body, policy), 1011, `图像数据格式错误: ${field}`);

/** Asserts a 400 with `code` and its exact message (codes of the split options). */
export function expectRefusedWith(fn: () => unknown, code: number, message: string) {
  const error = thrown(fn);
  expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code, status: 400, message });
}

export const TASK = "2018062212345678911";
export const UNSAFE = 2 ** 53;
export const MAX_SAFE = 2 ** 53 - 1;
