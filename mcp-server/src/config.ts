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
    // Inbound: how this server checks its callers. (The agent's MCP_AUTH is outbound: what it sends.)
    MCP_SERVER_AUTH: z.enum(["none", "google-id-token"]).default("none"),
    MCP_AUTH_AUDIENCE: z.string().optional(),
    MCP_ALLOWED_INVOKERS: csv,
    MCP_AUTH_CERTS_URL: z.url().default("https://www.googleapis.com/oauth2/v3/certs"),
    MCP_ALLOWED_HOSTS: csv,
    SSE_KEEPALIVE_MS: z.coerce.number().int().positive().default(15_000),
    CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
    GOOGLE_CLOUD_PROJECT: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.MCP_SERVER_AUTH === "google-id-token" && !c.MCP_AUTH_AUDIENCE) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_AUTH_AUDIENCE"],
        message: "is required when MCP_SERVER_AUTH=google-id-token (the service URL the callers use as audience)",
      });
    }
  });

export type Config = Readonly<z.infer<typeof schema>>;

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseEnv(schema, { ...env, MCP_SERVER_AUTH: env.MCP_SERVER_AUTH || legacyAuth(env) });
}

// Until 0.2 the server read MCP_AUTH, a name the agent uses for something else (auto|id-token|none):
// one .env for both broke `make up`. The server's old values still work, for one release, with a
// warning; the agent's values are not the server's and are ignored here.
const LEGACY_AUTH_VALUES = ["none", "google-id-token"];
function legacyAuth(env: Record<string, string | undefined>): string | undefined {
  return LEGACY_AUTH_VALUES.includes(env.MCP_AUTH ?? "") ? env.MCP_AUTH : undefined;
}

/** Start-up warnings about the environment (deprecated names), for main.ts to log. */
export function configWarnings(env: Record<string, string | undefined>): string[] {
  return !env.MCP_SERVER_AUTH && legacyAuth(env) === "google-id-token"
    ? ["MCP_AUTH=google-id-token is deprecated on the mcp-server and will stop working in the next release: set MCP_SERVER_AUTH=google-id-token"]
    : [];
}
