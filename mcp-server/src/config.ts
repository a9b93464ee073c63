import { z } from "zod";
import { csv, parseEnv } from "../../common/env.js";
import { isLoopback } from "../../common/host-guard.js";

/** The explicit opt-out in MCP_ALLOWED_INVOKERS: accept a valid token from any Google identity. */
export const ANY_GOOGLE_ACCOUNT = "any-google-account";

/**
 * An http(s) URL of a service this server calls. fetch refuses a URL with credentials and the
 * client drops a query when it resolves paths against the base: such a URL can never work, and
 * would put a password or an API key in the logs. Refused at start-up, without echoing it.
 */
const serviceUrl = (fallback: string) =>
  z
    .url({ protocol: /^https?$/ })
    .refine((u) => {
      const url = new URL(u);
      return !url.username && !url.password && !url.search && !url.hash;
    }, "must not carry credentials (user:password@), a query (?…) or a fragment (#…)")
    .default(fallback);

/**
 * A browser origin as the Origin header carries it: http(s), a host, maybe a port, nothing else.
 * Kept in its serialised form (lowercase, default port dropped) so that it compares as browsers send.
 */
const origin = z.string().transform((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const bare = url && !url.username && !url.password && !url.search && !url.hash;
  if (!bare || !/^https?:$/.test(url.protocol) || !/^\/?$/.test(url.pathname)) {
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
  FRANKFURTER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // One deadline per tool call (queue wait and the retry included), below the agent's
  // MCP_TOOL_TIMEOUT_MS (30 s) with room for the answer to travel back.
  TOOL_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(25_000),
  // v2 only: scope rates to named sources, e.g. ECB for ECB reference rates; empty =
  // Frankfurter's blend.
  FRANKFURTER_PROVIDERS: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? "")
        .split(",")
        .map((x) => x.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(/^[A-Z0-9.]{2,16}$/, "must be provider keys like ECB, separated by commas"),
      ),
    ),
  FRANKFURTER_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  FRANKFURTER_MAX_CONCURRENT: z.coerce.number().int().positive().default(8),
  FRANKFURTER_MAX_QUEUE: z.coerce.number().int().nonnegative().default(256),
  // Inbound: how this server checks its callers. (The agent's MCP_AUTH is outbound: what it
  // sends.)
  // A list: a request passes if any method accepts it (the agent's Google ID token beside people's
  // assistants' OAuth access tokens). Normalised to "none", "google-id-token", "oauth" or
  // "google-id-token,oauth".
  MCP_SERVER_AUTH: z
    .string()
    .default("none")
    .transform((s) => [...new Set(s.split(",").map((x) => x.trim()))].sort().join(","))
    .pipe(
      z.enum(["none", "google-id-token", "oauth", "google-id-token,oauth"], {
        error: "must be none, google-id-token, oauth or google-id-token,oauth",
      }),
    ),
  // The agent's outbound auth (auto | id-token | none), which one .env may hold for both services.
  // It was this server's inbound setting too (none | google-id-token) before MCP_SERVER_AUTH.
  MCP_AUTH: z.string().optional(),
  MCP_AUTH_AUDIENCE: z.string().optional(),
  MCP_ALLOWED_INVOKERS: csv,
  MCP_AUTH_CERTS_URL: serviceUrl("https://www.googleapis.com/oauth2/v3/certs"),
  MCP_ALLOWED_HOSTS: csv,
  // Browser origins (scheme://host[:port]) that may call /mcp: CORS, and the Origin check.
  MCP_ALLOWED_ORIGINS: csv.pipe(z.array(origin)),
  // OAuth resource server: the authorization server (its issuer identifier, exactly as in its
  // tokens' iss), this server's canonical /mcp URL (the audience tokens must carry, RFC 8707) and
  // the scopes every call needs.
  OAUTH_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  MCP_RESOURCE_URL: z.url({ protocol: /^https?$/ }).optional(),
  // The aud tokens carry instead of MCP_RESOURCE_URL, for an authorization server that cannot put
  // the resource URL there (Entra ID: the API's application id).
  OAUTH_AUDIENCE: z
    .string()
    .regex(/^\S+$/, { error: "must be one audience, no spaces" })
    .optional(),
  // A page for people about this server and how to get access (RFC 9728 resource_documentation),
  // published to anyone who asks: nothing secret in it.
  MCP_RESOURCE_DOCUMENTATION: z
    .url({ protocol: /^https?$/ })
    .refine((u) => {
      const url = new URL(u);
      return !url.username && !url.password && !url.search;
    }, "must not carry credentials (user:password@) or a query (?…): the metadata is public")
    .optional(),
  OAUTH_SCOPES: z
    .string()
    .default("mcp:tools")
    .transform((s) => s.split(/[\s,]+/).filter(Boolean)),
  // The oldest access token accepted (by its iat) and the longest lifetime (exp − iat): a day, as
  // for Google ID tokens. Access tokens live minutes to hours.
  OAUTH_MAX_TOKEN_AGE_SECONDS: z.coerce.number().int().positive().default(86_400),
  SSE_KEEPALIVE_MS: z.coerce.number().int().positive().default(15_000),
  // Each open SSE session holds a server and up to SSE_MAX_QUEUED_BYTES of unread replies:
  // 200 × 256 KiB bounds the worst case at 50 MiB of a 512 MiB instance.
  SSE_MAX_SESSIONS: z.coerce.number().int().positive().default(200),
  SSE_MAX_QUEUED_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .default(256 * 1024),
  CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
  CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  CACHE_LATEST_TTL_SECONDS: z.coerce.number().int().nonnegative().default(900),
  CACHE_DATED_TTL_SECONDS: z.coerce.number().int().nonnegative().default(86_400),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
});
type Fields = z.infer<typeof fields>;

const schema = fields.superRefine((c, ctx) => {
  if (c.FRANKFURTER_PROVIDERS.length && /\/v1\/?$/.test(new URL(c.FRANKFURTER_URL).pathname)) {
    ctx.addIssue({
      code: "custom",
      path: ["FRANKFURTER_PROVIDERS"],
      message:
        "needs Frankfurter v2 (FRANKFURTER_URL ending in /v2); " +
        "the v1 API has ECB rates only and no providers",
    });
  }
  if (c.MCP_SERVER_AUTH.includes("oauth")) checkOAuthSettings(c, ctx);
  if (c.MCP_SERVER_AUTH.includes("google-id-token")) checkGoogleSettings(c, ctx);
  refuseMisplaced(c, ctx);
});

/**
 * Settings read under one inbound method only. Set (to anything but their default) without it,
 * they would leave the server open while whoever set them believes it checks its callers.
 */
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
} as const satisfies Record<string, ReadonlyArray<keyof Fields>>;

/** A setting of a method MCP_SERVER_AUTH does not name, and the removed MCP_AUTH, stop start-up. */
function refuseMisplaced(c: Fields, ctx: z.RefinementCtx): void {
  const methods = c.MCP_SERVER_AUTH.split(",");
  for (const [method, names] of Object.entries(ONLY_WITH)) {
    if (methods.includes(method)) continue;
    for (const name of names) {
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
}

/** OAUTH_ISSUER and MCP_RESOURCE_URL: present, https (http only on loopback), nothing secret. */
function checkOAuthSettings(c: Fields, ctx: z.RefinementCtx): void {
  for (const name of ["OAUTH_ISSUER", "MCP_RESOURCE_URL"] as const) {
    const value = c[name];
    if (!value) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message:
          name === "OAUTH_ISSUER"
            ? "is required when MCP_SERVER_AUTH has oauth (the authorization server's issuer)"
            : "is required when MCP_SERVER_AUTH has oauth (this server's public …/mcp URL)",
      });
      continue;
    }
    const url = new URL(value);
    // Tokens and metadata over plain http can be read and forged on the way: loopback only.
    if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "must be https (http only on loopback)",
      });
    }
    if (url.search || url.hash || url.username || url.password) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "must not carry credentials, a query (?…) or a fragment (#…)",
      });
    }
  }
}

/** The Google ID-token check needs its audience and an explicit list of who may call. */
function checkGoogleSettings(c: Fields, ctx: z.RefinementCtx): void {
  if (!c.MCP_AUTH_AUDIENCE) {
    ctx.addIssue({
      code: "custom",
      path: ["MCP_AUTH_AUDIENCE"],
      message:
        "is required when MCP_SERVER_AUTH=google-id-token " +
        "(the service URL the callers use as audience)",
    });
  }
  // Anyone can mint a Google ID token for any audience from their own project: without a list the
  // check proves only "some Google account". That must be said out loud, never be the default.
  if (c.MCP_ALLOWED_INVOKERS.length === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["MCP_ALLOWED_INVOKERS"],
      message:
        "is required when MCP_SERVER_AUTH=google-id-token: the service-account emails that " +
        `may call (comma-separated), or ${ANY_GOOGLE_ACCOUNT} to accept a valid ID token ` +
        "from any Google account",
    });
  }
  if (c.MCP_ALLOWED_INVOKERS.includes(ANY_GOOGLE_ACCOUNT) && c.MCP_ALLOWED_INVOKERS.length > 1) {
    ctx.addIssue({
      code: "custom",
      path: ["MCP_ALLOWED_INVOKERS"],
      message:
        `${ANY_GOOGLE_ACCOUNT} cannot be combined with emails: ` +
        "it accepts every Google account",
    });
  }
}

/**
 * The parsed settings, plus the environment they came from: the shared tracing and logging code
 * (OTEL_*, LOG_*, K_SERVICE) reads its own variables from it.
 */
export type Config = Readonly<
  z.infer<typeof schema> & { env: Readonly<Record<string, string | undefined>> }
>;

/** Every variable the schema reads; make deploy carries or refuses each (scripts/deploy-env.sh). */
export const SETTING_NAMES: readonly string[] = Object.keys(fields.shape);

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return Object.freeze({ ...parseEnv(schema, env), env: Object.freeze({ ...env }) });
}
