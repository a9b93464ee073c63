import * as z from "zod";
import { csv, parseEnv } from "../../common/env.js";
import { isLoopback } from "../../common/host-guard.js";

/** The explicit opt-out in MCP_ALLOWED_INVOKERS: accept a valid token from any Google identity. */
export const ANY_GOOGLE_ACCOUNT = "any-google-account";

/** A whole number of at least `min` (1 unless said), `fallback` when unset. */
const int = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** No credentials, query or (unless allowed) fragment; a non-URL is z.url's to refuse. */
const plain = (value: string, fragment = false): boolean => {
  const url = URL.parse(value);
  return !url || (!url.username && !url.password && !url.search && (fragment || !url.hash));
};
const httpUrl = z.url({ protocol: /^https?$/ });

/** A service this server calls: credentials or a query could never work, only leak to the logs. */
const serviceUrl = (fallback: string) =>
  httpUrl
    .refine(
      (u) => plain(u),
      "must not carry credentials (user:password@), a query (?…) or a fragment (#…)",
    )
    .default(fallback);

/** Tokens and metadata over plain http can be read and forged on the way: https, or loopback. */
const oauthUrl = httpUrl
  .refine((u) => plain(u), "must not carry credentials, a query (?…) or a fragment (#…)")
  .refine((u) => {
    const url = URL.parse(u);
    return !url || url.protocol === "https:" || isLoopback(url.hostname);
  }, "must be https (http only on loopback)")
  .optional();

/** A browser origin, serialised as the Origin header carries it (lowercase, no default port). */
const origin = z.string().transform((value, ctx) => {
  const url = URL.parse(value);
  if (!url || !plain(value) || !/^https?:$/.test(url.protocol) || !/^\/?$/.test(url.pathname)) {
    ctx.addIssue({
      code: "custom",
      message: "must be origins, http(s)://host[:port] with no path, e.g. https://app.example.com",
    });
    return z.NEVER;
  }
  return url.origin;
});

const fields = z.object({
  // Loopback unless told otherwise: the images set HOST=0.0.0.0 (Cloud Run, compose).
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // v2 blends central banks (200+ currencies); a URL ending in /v1 keeps the frozen ECB-only API.
  FRANKFURTER_URL: serviceUrl("https://api.frankfurter.dev/v2"),
  FRANKFURTER_TIMEOUT_MS: int(10_000),
  // One deadline per tool call, retry included, below the agent's MCP_TOOL_TIMEOUT_MS (30 s).
  TOOL_CALL_TIMEOUT_MS: int(25_000),
  // v2 only: rates from the named sources (e.g. ECB); empty = Frankfurter's blend.
  FRANKFURTER_PROVIDERS: csv
    .transform((keys) => keys.map((k) => k.toUpperCase()))
    .pipe(
      z.array(
        z
          .string()
          .regex(/^[A-Z0-9.]{2,16}$/, "must be provider keys like ECB, separated by commas"),
      ),
    ),
  FRANKFURTER_MAX_BODY_BYTES: int(1024 * 1024),
  FRANKFURTER_MAX_CONCURRENT: int(8),
  FRANKFURTER_MAX_QUEUE: int(256, 0),
  // How this server checks its callers; a request passes if any method listed accepts it.
  MCP_SERVER_AUTH: z
    .string()
    .default("none")
    .transform((s) => [...new Set(s.split(",").map((x) => x.trim()))].sort().join(","))
    .pipe(
      z.enum(["none", "google-id-token", "oauth", "google-id-token,oauth"], {
        error: "must be none, google-id-token, oauth or google-id-token,oauth",
      }),
    ),
  // The agent's outbound auth (one .env may serve both): read only to refuse this server's old values.
  MCP_AUTH: z.string().optional(),
  MCP_AUTH_AUDIENCE: z.string().optional(),
  MCP_ALLOWED_INVOKERS: csv,
  MCP_AUTH_CERTS_URL: serviceUrl("https://www.googleapis.com/oauth2/v3/certs"),
  MCP_ALLOWED_HOSTS: csv,
  // Browser origins that may call /mcp: CORS, and the Origin check.
  MCP_ALLOWED_ORIGINS: csv.pipe(z.array(origin)),
  // The authorization server's issuer, exactly as in its tokens' iss.
  OAUTH_ISSUER: oauthUrl,
  // This server's canonical /mcp URL: the audience its tokens carry (RFC 8707).
  MCP_RESOURCE_URL: oauthUrl,
  // The aud instead of the resource URL, where it cannot be that (Entra ID: the application id).
  OAUTH_AUDIENCE: z
    .string()
    .regex(/^\S+$/, { error: "must be one audience, no spaces" })
    .optional(),
  // A public page about this server and how to get access (RFC 9728 resource_documentation).
  MCP_RESOURCE_DOCUMENTATION: httpUrl
    .refine(
      (u) => plain(u, true),
      "must not carry credentials (user:password@) or a query (?…): the metadata is public",
    )
    .optional(),
  OAUTH_SCOPES: z
    .string()
    .default("mcp:tools")
    .transform((s) => s.split(/[\s,]+/).filter(Boolean)),
  // The oldest access token accepted (by its iat) and the longest lifetime: a day, as Google's.
  OAUTH_MAX_TOKEN_AGE_SECONDS: int(86_400),
  SSE_KEEPALIVE_MS: int(15_000),
  // Each open SSE session holds a server and up to SSE_MAX_QUEUED_BYTES of unread replies:
  // 200 × 256 KiB bounds the worst case at 50 MiB of a 512 MiB instance.
  SSE_MAX_SESSIONS: int(200),
  SSE_MAX_QUEUED_BYTES: int(256 * 1024, 16_384),
  CACHE_MAX_ENTRIES: int(1000),
  CACHE_MAX_BYTES: int(16 * 1024 * 1024),
  CACHE_LATEST_TTL_SECONDS: int(900, 0),
  CACHE_DATED_TTL_SECONDS: int(86_400, 0),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
});
type Fields = z.infer<typeof fields>;

const schema = fields.superRefine((c, ctx) => {
  if (
    c.FRANKFURTER_PROVIDERS.length &&
    /\/v1\/?$/.test(URL.parse(c.FRANKFURTER_URL)?.pathname ?? "")
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["FRANKFURTER_PROVIDERS"],
      message:
        "needs Frankfurter v2 (FRANKFURTER_URL ending in /v2); " +
        "the v1 API has ECB rates only and no providers",
    });
  }
  checkMethods(c, ctx);
  // Anyone can mint an ID token for any audience: without a list it proves only "some account".
  const invokers = c.MCP_ALLOWED_INVOKERS;
  if (invokers.includes(ANY_GOOGLE_ACCOUNT) && invokers.length > 1) {
    const message = `${ANY_GOOGLE_ACCOUNT} cannot be combined with emails: it accepts every Google account`;
    ctx.addIssue({ code: "custom", path: ["MCP_ALLOWED_INVOKERS"], message });
  }
  // The agent's values (auto, id-token, none) are its own; these were this server's.
  const old = c.MCP_AUTH?.trim();
  if (old && /google-id-token|oauth/.test(old)) {
    ctx.addIssue({
      code: "custom",
      path: ["MCP_AUTH"],
      message:
        "is the agent's outbound setting; the mcp-server reads MCP_SERVER_AUTH: " +
        `set MCP_SERVER_AUTH=${old} instead, and unset MCP_AUTH`,
    });
  }
});

/** What each inbound method cannot work without, and what it means. */
const REQUIRED = {
  "google-id-token": {
    MCP_AUTH_AUDIENCE: "the service URL the callers use as audience",
    MCP_ALLOWED_INVOKERS:
      "the service-account emails that may call (comma-separated), " +
      `or ${ANY_GOOGLE_ACCOUNT} to accept a valid ID token from any Google account`,
  },
  oauth: {
    OAUTH_ISSUER: "the authorization server's issuer",
    MCP_RESOURCE_URL: "this server's public …/mcp URL",
  },
} as const;

/** Settings of one inbound method: set without it, the server is open while believed checked. */
const ONLY_WITH = {
  "google-id-token": ["MCP_AUTH_AUDIENCE", "MCP_ALLOWED_INVOKERS", "MCP_AUTH_CERTS_URL"],
  oauth: [
    "OAUTH_ISSUER",
    "MCP_RESOURCE_URL",
    "OAUTH_AUDIENCE",
    "OAUTH_SCOPES",
    "OAUTH_MAX_TOKEN_AGE_SECONDS",
    "MCP_RESOURCE_DOCUMENTATION",
  ],
} as const satisfies Record<keyof typeof REQUIRED, ReadonlyArray<keyof Fields>>;

/** The settings of each method MCP_SERVER_AUTH names are there; those of the others are not. */
function checkMethods(c: Fields, ctx: z.RefinementCtx): void {
  const methods = c.MCP_SERVER_AUTH.split(",");
  for (const method of ["google-id-token", "oauth"] as const) {
    if (methods.includes(method)) {
      for (const [name, meaning] of Object.entries(REQUIRED[method])) {
        // Unset is undefined, "" or an empty list.
        if (String(c[name as keyof Fields] ?? "")) continue;
        const message = `is required when MCP_SERVER_AUTH has ${method}: ${meaning}`;
        ctx.addIssue({ code: "custom", path: [name], message });
      }
      continue;
    }
    for (const name of ONLY_WITH[method]) {
      const unset = fields.shape[name].parse(undefined);
      if (JSON.stringify(c[name]) === JSON.stringify(unset)) continue;
      ctx.addIssue({
        code: "custom",
        path: [name],
        message:
          `is read only with ${method} in MCP_SERVER_AUTH (now ${c.MCP_SERVER_AUTH}): ` +
          `add ${method} to MCP_SERVER_AUTH, or unset ${name}`,
      });
    }
  }
}

/** The parsed settings, and the environment the shared code reads (OTEL_*, LOG_*, K_SERVICE). */
export type Config = Readonly<
  z.infer<typeof schema> & { env: Readonly<Record<string, string | undefined>> }
>;

/** Every variable the schema reads; make deploy carries or refuses each (scripts/deploy-env.sh). */
export const SETTING_NAMES: readonly string[] = Object.keys(fields.shape);

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return Object.freeze({ ...parseEnv(schema, env), env: Object.freeze({ ...env }) });
}
