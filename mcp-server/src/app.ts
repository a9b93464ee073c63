import {
  createMcpHandler,
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  getOAuthProtectedResourceMetadataUrl,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  type JSONRPCErrorResponse,
  ProtocolErrorCode,
  isJsonContentType,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { JWTVerifyGetKey } from "jose";
import { bodyLimit } from "../../common/body-limit.js";
import { isClientAbort, nosniff } from "../../common/http.js";
import { createHostGuard } from "../../common/host-guard.js";
import { createLogger, type Logger } from "../../common/log.js";
import { Inflight, type Service } from "../../common/serve.js";
import {
  configureTraceProject,
  incomingContext,
  type SpanContext,
} from "../../common/trace-context.js";
import { startTracing } from "../../common/tracing.js";
import { authGuard, createIdTokenVerifier } from "./auth.js";
import type { Config } from "./config.js";
import { errorResponse, idOf, invalidToolArguments, rpcError, ServiceError } from "./errors.js";
import { FrankfurterClient, type FrankfurterDeps } from "./frankfurter/client.js";
import {
  createOAuthVerifier,
  protectedResourceMetadata,
  type OAuthVerifier,
  type VerifiedToken,
} from "./oauth.js";
import { SseSessions } from "./sse.js";
import type { ToolDeps } from "./tools/common.js";
import { buildToolServer, VERSION } from "./tool-server.js";

/** What tests replace (the network, the clock, Frankfurter's retry delay); the rest is config. */
export interface Overrides extends FrankfurterDeps {
  /** Google's signing keys (a local JWKS) for MCP_SERVER_AUTH=google-id-token. */
  keys?: JWTVerifyGetKey;
  logger?: Logger;
  /** How often an unknown `kid` may refetch the OAuth issuer's JWKS (default a minute). */
  jwksCooldownMs?: number;
}

/** `drain` ends the SSE sessions and waits for requests in flight; `close` sends the last spans. */
export interface McpService extends Service {
  app: Hono<AppEnv>;
  status(): { open_sse_sessions: number };
  drain(deadline: number): Promise<{ requests_unfinished: number }>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** `auth`: whom the auth guard let in; an SSE session belongs to its opener. */
export type AppEnv = { Variables: { auth?: VerifiedToken | undefined } };

// A refusal leaves the body unread: `Connection: close`, or Node drains it 500 ms then cuts.
const limit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    const message = `Request body larger than ${MAX_BODY_BYTES} bytes`;
    throw rpcError(413, message, { Connection: "close" });
  },
});

/** The whole service from its config: routes, Frankfurter client, auth, SSE sessions, tracing. */
export async function createMcpService(config: Config, over: Overrides = {}): Promise<McpService> {
  const logger = over.logger ?? createLogger({ service: "mcp-server" });
  const now = over.now ?? Date.now;
  const frankfurter = new FrankfurterClient(config, { ...over, now });
  configureTraceProject(config.env, over.fetch);
  const tracing = await startTracing(config.env, logger, {
    serviceName: "mcp-server",
    version: VERSION,
  });
  const toolDeps = { frankfurter, logger, now, callTimeoutMs: config.TOOL_CALL_TIMEOUT_MS };
  const sessions = new SseSessions(config, logger, () => buildToolServer(toolDeps));
  const inflight = new Inflight();
  // Resolved when a drain reaches its deadline with requests still in flight: they are answered.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const app = new Hono<AppEnv>();

  app.onError((err, c) => onError(err, c, logger));
  app.notFound((c) => {
    throw new ServiceError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.use(nosniff);
  app.use((_c, next) => inflight.run(next));
  app.get("/health", (c) => c.json({ status: "ok" }));
  guardRoutes(app, config, over, logger, now);
  const mcp = streamableHttp(toolDeps, stopped);
  app.all("/mcp", limit, mcp.route);
  // Legacy HTTP+SSE (deprecated by the spec, kept for existing clients).
  app.get("/sse", (c) => sessions.open(c.req.raw, c.get("auth"), traceOf(c)));
  app.post("/messages", limit, (c) => sessions.post(c.req.raw, c.get("auth"), traceOf(c)));

  return {
    app,
    status: () => ({ open_sse_sessions: sessions.size }),
    async drain(deadline) {
      sessions.drain();
      await inflight.idle(deadline);
      const unfinished = inflight.count;
      if (unfinished) {
        stop();
        // The answers are written before main.ts closes the remaining connections.
        await inflight.idle(Date.now() + 100);
      }
      return { requests_unfinished: unfinished };
    },
    async close() {
      await mcp.close();
      await tracing.flush(2_000);
    },
  };
}

/** Before /mcp, /sse and /messages: CORS for allowed origins, Host and Origin, the token. */
function guardRoutes(
  app: Hono<AppEnv>,
  config: Config,
  over: Overrides,
  logger: Logger,
  now: () => number,
): void {
  const { google, oauth } = createVerifiers(config, over, now);
  // A token is for one resource (RFC 8707), asked for the URL a client was given: /sse is its own.
  const mcpResource = config.MCP_RESOURCE_URL ?? "";
  const sseResource = mcpResource && new URL("sse", mcpResource).href;
  if (oauth) {
    const documentation = config.MCP_RESOURCE_DOCUMENTATION;
    app.route("/", resourceMetadataRoutes(oauth, mcpResource, documentation, true));
    app.route("/", resourceMetadataRoutes(oauth, sseResource, documentation, false));
  }
  if (config.MCP_ALLOWED_ORIGINS.length) {
    app.use("/mcp", browserCors(config.MCP_ALLOWED_ORIGINS));
  }
  // DNS rebinding (the MCP spec: servers MUST validate Origin); Host too when on loopback.
  const hostRefusal = createHostGuard({
    listen: config.HOST,
    allowedHosts: config.MCP_ALLOWED_HOSTS,
    allowedOrigins: config.MCP_ALLOWED_ORIGINS,
    cloudRun: Boolean(config.env.K_SERVICE),
    originSetting: "MCP_ALLOWED_ORIGINS",
  });
  for (const path of ["/mcp", "/sse", "/messages"]) {
    app.use(path, async (c, next) => {
      const refused = hostRefusal(c.req.raw);
      return refused === undefined ? next() : errorResponse(rpcError(403, refused));
    });
    const resource = path === "/mcp" ? mcpResource : sseResource;
    if (google || oauth) app.use(path, authGuard({ google, oauth, resource }, logger));
  }
}

/**
 * Streamable HTTP, stateless, both eras on one endpoint: 2026-07-28 to the SDK's handler, 2025-era
 * ones to `legacyLane`. The body is parsed once here, for a readable -32602 on bad tool arguments.
 */
function streamableHttp(deps: ToolDeps, stopped: Promise<void>) {
  const { logger } = deps;
  const mcp = createMcpHandler(() => buildToolServer(deps), {
    legacy: "reject",
    maxRequestBodySize: MAX_BODY_BYTES,
    onerror: (err) => logger.log("DEBUG", "MCP request refused", { error: err.message }),
  });
  const route = async (c: Context<AppEnv>): Promise<Response> => {
    const authInfo = c.get("auth");
    // As the SDK would (405), but logged as what it is: a client probing for a stream.
    if (c.req.method !== "POST") {
      const reason = "a stateless server: no stream to listen on, no session to delete";
      logger.log("DEBUG", `${c.req.method} /mcp refused (405): POST only`, { reason });
      throw rpcError(405, "Method not allowed: POST only", { Allow: "POST" });
    }
    if (!isJsonContentType(c.req.header("content-type") ?? "")) {
      return mcp.fetch(c.req.raw, { authInfo });
    }
    const body: unknown = await c.req.json().catch(() => {
      throw new ServiceError(400, -32700, "Parse error: Invalid JSON");
    });
    const refused = Array.isArray(body) ? undefined : invalidToolArguments(body);
    if (refused) return Response.json(refused);
    const options = { maxRequestBodySize: MAX_BODY_BYTES };
    const answer = Array.isArray(body)
      ? batch(c.req.raw, body, deps, authInfo)
      : (await isLegacyRequest(c.req.raw, body, options))
        ? legacyLane(c.req.raw, body, deps, authInfo)
        : mcp.fetch(c.req.raw, { parsedBody: body, authInfo });
    return Promise.race([answer, stopped.then(() => shuttingDown(body))]);
  };
  return { route, close: () => mcp.close() };
}

/**
 * CORS for MCP_ALLOWED_ORIGINS, before the other checks: every answer, a 401 included, is readable
 * by their pages. Other origins get no CORS header, and the Origin check. Tokens, never cookies.
 */
function browserCors(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  const handler = cors({
    origin: [...origins],
    allowMethods: ["GET", "POST", "DELETE"],
    allowHeaders: [
      "Authorization",
      "Content-Type",
      "Accept",
      "Mcp-Session-Id",
      "Mcp-Protocol-Version",
      "Mcp-Method",
      "Mcp-Name",
      "Last-Event-ID",
      "traceparent",
      "tracestate",
    ],
    exposeHeaders: ["WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version"],
    maxAge: 600,
  });
  return (c, next) => (allowed.has(c.req.header("origin") ?? "") ? handler(c, next) : next());
}

/**
 * A JSON-RPC batch: answered element by element under MCP 2025-03-26 (the default without
 * MCP-Protocol-Version), refused whole, saying why, from 2025-06-18 on. Never a silent drop.
 */
async function batch(
  req: Request,
  body: unknown[],
  deps: ToolDeps,
  authInfo: VerifiedToken | undefined,
): Promise<Response> {
  const version = req.headers.get("mcp-protocol-version") ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
  // JSON-RPC 2.0 §6: one Invalid Request (the SDK would answer 202, nothing).
  if (body.length === 0) {
    const message = "Invalid Request: an empty JSON-RPC batch";
    return errorResponse(new ServiceError(400, ProtocolErrorCode.InvalidRequest, message));
  }
  if (version >= "2025-06-18") {
    const message =
      `Invalid Request: MCP ${version} has no JSON-RPC batches (removed in 2025-06-18): ` +
      "send each message in a request of its own";
    return errorResponse(new ServiceError(400, ProtocolErrorCode.InvalidRequest, message));
  }
  const errors: JSONRPCErrorResponse[] = [];
  const good = body.filter((m) => {
    const refused = invalidToolArguments(m);
    if (refused) errors.push(refused);
    else if (!isJSONRPCRequest(m) && !isJSONRPCNotification(m) && !isJSONRPCResponse(m)) {
      const error = { code: ProtocolErrorCode.InvalidRequest, message: "Invalid Request" };
      errors.push({ jsonrpc: "2.0", id: idOf(m), error } as JSONRPCErrorResponse);
    } else return true;
    return false;
  });
  if (errors.length === 0) return legacyLane(req, body, deps, authInfo);
  if (good.length === 0) return Response.json(errors);
  const res = await legacyLane(req, good, deps, authInfo);
  if (res.status === 202) return Response.json(errors);
  if (res.status !== 200) return res;
  const answered = (await res.json()) as unknown;
  return Response.json([...(Array.isArray(answered) ? answered : [answered]), ...errors]);
}

/**
 * A 2025-era request, answered as plain JSON: the SDK's lane (`legacy: "stateless"`) streams every
 * answer as SSE, at a CPU cost in docs/decisions.md (protocol.test.ts notices when it stops).
 */
async function legacyLane(
  req: Request,
  parsedBody: unknown,
  deps: ToolDeps,
  authInfo: VerifiedToken | undefined,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = buildToolServer(deps);
  await server.connect(transport);
  try {
    return await transport.handleRequest(req, { parsedBody, authInfo });
  } finally {
    // JSON responses are complete here; closing frees the per-request server.
    void server.close();
  }
}

/** A request still running at the drain deadline: an error with its id, not a cut connection. */
function shuttingDown(body: unknown): Response {
  const error = { code: -32000, message: "the server is shutting down: send the request again" };
  const headers = { Connection: "close", "Retry-After": "1" };
  return Response.json({ jsonrpc: "2.0", id: idOf(body), error }, { status: 503, headers });
}

function onError(err: Error, c: Context, logger: Logger): Response {
  const fields = { path: c.req.path, error: String(err) };
  if (err instanceof ServiceError) {
    return errorResponse(err);
  }
  if (isClientAbort(err, c.req.raw.signal)) {
    // A body cut short or malformed by the client (Node has already answered 400): not our error.
    logger.log("WARNING", "request body could not be read", { ...fields, status: 400 }, traceOf(c));
    const message = "The request body could not be read";
    return errorResponse(
      new ServiceError(400, -32700, message, { headers: { Connection: "close" } }),
    );
  }
  logger.log("ERROR", "unhandled error", { ...fields, status: 500 }, traceOf(c));
  return errorResponse(new ServiceError(500, -32603, "Internal server error"));
}

/** The token verifiers MCP_SERVER_AUTH names: a Google ID token, an OAuth access token, or both. */
function createVerifiers(config: Config, over: Overrides, now: () => number) {
  const methods = config.MCP_SERVER_AUTH.split(",");
  const google = methods.includes("google-id-token")
    ? createIdTokenVerifier({
        audience: config.MCP_AUTH_AUDIENCE ?? "",
        allowedInvokers: config.MCP_ALLOWED_INVOKERS,
        certsUrl: config.MCP_AUTH_CERTS_URL,
        keys: over.keys,
        now,
      })
    : undefined;
  const issuer = config.OAUTH_ISSUER;
  if (!methods.includes("oauth") || !issuer) return { google };
  const oauth = createOAuthVerifier({
    issuer,
    audience: config.OAUTH_AUDIENCE,
    scopes: config.OAUTH_SCOPES,
    maxTokenAgeSeconds: config.OAUTH_MAX_TOKEN_AGE_SECONDS,
    now,
    jwksCooldownMs: over.jwksCooldownMs,
  });
  return { google, oauth };
}

/** RFC 9728 metadata at the resource's path-suffixed address (and the root for /mcp): public. */
function resourceMetadataRoutes(
  oauth: OAuthVerifier,
  resource: string,
  documentation: string | undefined,
  atRoot: boolean,
): Hono {
  const routes = new Hono();
  const document = protectedResourceMetadata(oauth, resource, documentation);
  const suffixed = new URL(getOAuthProtectedResourceMetadataUrl(new URL(resource))).pathname;
  for (const path of atRoot ? [suffixed, "/.well-known/oauth-protected-resource"] : [suffixed]) {
    routes.use(path, cors({ origin: "*", allowMethods: ["GET", "HEAD"] }));
    routes.on(["GET", "HEAD"], path, (c) => c.json(document));
  }
  return routes;
}

/** The caller's trace context, for a line about this request. */
function traceOf(c: Context): SpanContext | undefined {
  return incomingContext(c.req.raw.headers);
}
