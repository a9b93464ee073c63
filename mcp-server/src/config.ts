import { z } from "zod";
import { parseEnv } from "../../common/env.js";

const csv = z
  .string()
  .optional()
  .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean));

const schema = z
  .object({
    HOST: z.string().min(1).default("0.0.0.0"),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    FRANKFURTER_URL: z.url({ protocol: /^https?$/ }).default("https://api.frankfurter.dev/v1"),
    FRANKFURTER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    MCP_AUTH: z.enum(["none", "google-id-token"]).default("none"),
    MCP_AUTH_AUDIENCE: z.string().optional(),
    MCP_ALLOWED_INVOKERS: csv,
    MCP_AUTH_CERTS_URL: z.url().default("https://www.googleapis.com/oauth2/v3/certs"),
    MCP_ALLOWED_HOSTS: csv,
    SSE_KEEPALIVE_MS: z.coerce.number().int().positive().default(15_000),
    // Each open SSE session holds a server and up to SSE_MAX_QUEUED_BYTES of unread replies:
    // 200 × 256 KiB bounds the worst case at 50 MiB of a 512 MiB instance.
    SSE_MAX_SESSIONS: z.coerce.number().int().positive().default(200),
    SSE_MAX_QUEUED_BYTES: z.coerce.number().int().min(16_384).default(256 * 1024),
    CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
    GOOGLE_CLOUD_PROJECT: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.MCP_AUTH === "google-id-token" && !c.MCP_AUTH_AUDIENCE) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_AUTH_AUDIENCE"],
        message: "is required when MCP_AUTH=google-id-token (the service URL the callers use as audience)",
      });
    }
  });

export type Config = Readonly<z.infer<typeof schema>>;

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseEnv(schema, env);
}
