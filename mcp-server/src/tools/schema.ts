import type * as z from "zod";

type JsonSchemaFn = (options: { target?: string; [k: string]: unknown }) => Record<string, unknown>;
interface StandardWithJsonSchema {
  jsonSchema: { input: JsonSchemaFn; output: JsonSchemaFn };
  [k: string]: unknown;
}

/**
 * Each per-request McpServer would convert the zod schemas to JSON Schema (`~standard.jsonSchema`)
 * on every tools/call: converted once instead, frozen and shared (cost in docs/decisions.md;
 * protocol.test.ts fails when the SDK stops asking through this hook).
 */
export function withCachedJsonSchema<T extends z.ZodType>(schema: T): T {
  const std = schema["~standard"] as unknown as StandardWithJsonSchema;
  const cache = new Map<string, Record<string, unknown>>();
  const memo =
    (io: "input" | "output"): JsonSchemaFn =>
    (options) => {
      const key = `${io} ${JSON.stringify(options ?? {})}`;
      let json = cache.get(key);
      if (!json) {
        json = deepFreeze(std.jsonSchema[io](options));
        cache.set(key, json);
      }
      return json;
    };
  Object.defineProperty(schema, "~standard", {
    configurable: true,
    enumerable: false,
    writable: true,
    value: { ...std, jsonSchema: { input: memo("input"), output: memo("output") } },
  });
  return schema;
}

// Shared between requests: nothing may change it (a write throws rather than leaking to others).
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
