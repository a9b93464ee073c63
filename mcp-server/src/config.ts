import { z } from "zod";
import { parseEnv } from "../../common/env.js";
import { ANY_GOOGLE_ACCOUNT } from "./auth.js";

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
    // Anyone can mint a Google ID token for any audience from their own project: without a list the
    // check proves only "some Google account". That must be said out loud, never be the default.
    if (c.MCP_AUTH === "google-id-token" && c.MCP_ALLOWED_INVOKERS.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_ALLOWED_INVOKERS"],
        message: `is required when MCP_AUTH=google-id-token: the service-account emails that may call (comma-separated), or ${ANY_GOOGLE_ACCOUNT} to accept a valid ID token from any Google account`,
      });
    }
    if (c.MCP_ALLOWED_INVOKERS.includes(ANY_GOOGLE_ACCOUNT) && c.MCP_ALLOWED_INVOKERS.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_ALLOWED_INVOKERS"],
        message: `${ANY_GOOGLE_ACCOUNT} cannot be combined with emails: it accepts every Google account`,
      });
    }
  });

export type Config = Readonly<z.infer<typeof schema>>;

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseEnv(schema, env);
}
