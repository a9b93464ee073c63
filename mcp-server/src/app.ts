import { createMcpHandler, isJsonContentType, isLegacyRequest, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "../../common/body-limit.js";
import type { IdTokenVerifier } from "./auth.js";
import type { FrankfurterClient } from "./frankfurter.js";
import type { Logger } from "./log.js";
import { incomingContext, type SpanContext } from "../../common/trace.js";
import { createMcpServer, invalidToolArguments } from "./server.js";
import { jsonError, WebSseServerTransport } from "./sse.js";

export interface AppDeps {
  frankfurter: FrankfurterClient;
  logger: Logger;
  now?: () => number;
  /** When set, every route but /health needs a valid Google ID token. */
  verifyAuth?: IdTokenVerifier | undefined;
  /** Host header allow-list (DNS-rebinding protection for local use); empty = any host, as on Cloud Run. */
  allowedHosts?: readonly string[];
  sseKeepAliveMs?: number;
  /** Open SSE sessions past which `GET /sse` answers 503 (each holds a server and a queue). */
  sseMaxSessions?: number;
  /** Unread bytes an SSE session may queue before it is closed as a client that does not read. */
  sseMaxQueuedBytes?: number;
  /** Open SSE sessions, so main can close them on SIGTERM. */
  sessions?: Map<string, WebSseServerTransport>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** `principal`: who the auth guard let in (token subject); an SSE session belongs to the caller that opened it. */
type AppEnv = { Variables: { principal?: string | undefined } };

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const sessions = deps.sessions ?? new Map<string, WebSseServerTransport>();
  const toolDeps = { frankfurter: deps.frankfurter, logger: deps.logger, now: deps.now ?? Date.now };

  // Log lines written for a request carry the caller's trace, read from its headers where they are
  // written; a tool call's span continues the context in the request's `_meta` when there is one
  // (tools/common.ts). Nothing here makes a context current (see SpanOptions.current in trace.ts).
  app.onError((err, c) => {
    const fields = { path: c.req.path, error: String(err) };
    if (isClientAbort(err, c.req.raw.signal)) {
      // A body cut short or malformed by the client (Node has already answered 400): not our error.
      deps.logger.log("WARNING", "request body could not be read", { ...fields, status: 400 }, traceOf(c));
      c.header("Connection", "close");
      return c.json({ jsonrpc: "2.0", error: { code: -32700, message: "The request body could not be read" }, id: null }, 400);
    }
    deps.logger.log("ERROR", "unhandled error", { ...fields, status: 500 }, traceOf(c));
    return c.json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404));

  app.get("/health", (c) => c.json({ status: "ok" }));

  for (const path of ["/mcp", "/sse", "/messages"]) {
    app.use(path, hostGuard(deps.allowedHosts ?? []), authGuard(deps.verifyAuth, deps.logger));
  }
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => closing(jsonError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`)),
  });

  // Streamable HTTP, stateless, both eras on one endpoint. 2026-07-28 requests (per-request `_meta`,
  // `server/discover`, routing headers checked against the body) go to the SDK's own entry: per
  // request it builds a fresh McpServer from the factory and a single-exchange transport. 2025-era
  // requests (`initialize` → 2025-11-25, no Mcp-Session-Id) get a fresh server and a stateless
  // transport answering plain JSON: the SDK's built-in legacy fallback answers every call as an SSE
  // stream, which costs about a third more CPU per call for nothing (no notifications are ever sent).
  // Nothing is shared between clients but the tools' prebuilt schemas and the JSON Schema validator.
  const modern = createMcpHandler(() => createMcpServer(toolDeps), {
    legacy: "reject",
    maxRequestBodySize: MAX_BODY_BYTES,
    onerror: (err) => deps.logger.log("DEBUG", "MCP request refused", { error: err.message }),
  });
  const legacy = async (req: Request, parsedBody: unknown): Promise<Response> => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = createMcpServer(toolDeps);
    await server.connect(transport);
    try {
      return await transport.handleRequest(req, { parsedBody });
    } finally {
      // JSON responses are complete here; closing frees the per-request server.
      void server.close();
    }
  };
  app.all("/mcp", limit, async (c) => {
    // No sessions and no server-initiated messages in either era: nothing to stream on GET, nothing to end on DELETE.
    if (c.req.method === "GET" || c.req.method === "DELETE") {
      c.header("Allow", "POST");
      return c.json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this server is stateless, use POST" }, id: null }, 405);
    }
    // JSON bodies are parsed here, once, and handed on parsed, so that a tools/call with non-object
    // arguments gets a readable -32602; everything else (415, protocol checks) is the SDK's.
    if (c.req.method !== "POST" || !isJsonContentType(c.req.header("content-type") ?? "")) return modern.fetch(c.req.raw);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return Response.json({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error: Invalid JSON" }, id: null }, { status: 400 });
    }
    const refused = Array.isArray(body) ? body.map(invalidToolArguments).find(Boolean) : invalidToolArguments(body);
    if (refused) return Response.json(refused);
    if (await isLegacyRequest(c.req.raw, body, { maxRequestBodySize: MAX_BODY_BYTES })) return legacy(c.req.raw, body);
    return modern.fetch(c.req.raw, { parsedBody: body });
  });

  // Legacy HTTP+SSE (deprecated by the spec, kept for existing clients): the session lives in this
  // instance's memory until the stream closes.
  const maxSessions = deps.sseMaxSessions ?? 200;
  app.get("/sse", async (c) => {
    if (sessions.size >= maxSessions) {
      deps.logger.log("WARNING", "SSE session refused: too many open", { open_sessions: sessions.size, max_sessions: maxSessions }, traceOf(c));
      c.header("Retry-After", "5");
      return c.json({ error: { code: "too_many_sessions", message: "Too many open SSE sessions on this instance: retry shortly, or use Streamable HTTP at /mcp" } }, 503);
    }
    const transport = new WebSseServerTransport("/messages", {
      keepAliveMs: deps.sseKeepAliveMs,
      maxQueuedBytes: deps.sseMaxQueuedBytes,
      principal: c.get("principal"),
    });
    const server = createMcpServer(toolDeps);
    sessions.set(transport.sessionId, transport);
    // Session ids are bearer capabilities for /messages: they never go to the logs.
    transport.onclose = () => {
      sessions.delete(transport.sessionId);
      deps.logger.log("DEBUG", "SSE session closed", { open_sessions: sessions.size });
    };
    await server.connect(transport);
    transport.onerror = (err) => deps.logger.log("WARNING", "SSE session error", { error: err.message });
    c.req.raw.signal?.addEventListener("abort", () => void server.close(), { once: true });
    deps.logger.log("DEBUG", "SSE session opened", { open_sessions: sessions.size }, traceOf(c));
    return new Response(transport.stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      },
    });
  });

  app.post("/messages", limit, async (c) => {
    const sessionId = c.req.query("sessionId");
    if (!sessionId) return jsonError(400, "Missing sessionId query parameter");
    const transport = sessions.get(sessionId);
    // Another identity's session answers as an unknown one: no hint that the id exists.
    if (!transport || transport.principal !== (c.get("principal"))) {
      if (transport) deps.logger.log("WARNING", "SSE post refused: session belongs to another caller", {}, traceOf(c));
      return jsonError(404, "Unknown or expired session: reconnect to /sse");
    }
    return transport.handlePost(c.req.raw);
  });

  return app;
}

function hostGuard(allowed: readonly string[]): MiddlewareHandler {
  const hosts = new Set(allowed.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (hosts.size === 0) return next();
    const host = (c.req.header("host") ?? "").toLowerCase();
    const hostname = host.replace(/:\d+$/, "");
    if (!hosts.has(host) && !hosts.has(hostname)) return jsonError(403, `Invalid Host header: ${host || "(none)"}`);
    const origin = c.req.header("origin");
    if (origin) {
      let originHost = "";
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        // unparsable: rejected below
      }
      if (!hosts.has(originHost) && !hosts.has(originHost.replace(/:\d+$/, ""))) return jsonError(403, `Invalid Origin header: ${origin}`);
    }
    return next();
  };
}

function authGuard(verify: IdTokenVerifier | undefined, logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!verify) return next();
    const result = await verify(c.req.header("authorization"));
    if (result.ok) {
      // The token's subject is the stable id of the account (an email can be reassigned).
      const principal = result.subject ?? result.email;
      if (principal) c.set("principal", principal);
      return next();
    }
    logger.log("WARNING", "request refused", { path: c.req.path, status: result.status, reason: result.description }, traceOf(c));
    if (result.status === 401) {
      // RFC 6750 §3.1: a request with no credentials gets the bare challenge, no error code.
      c.header(
        "WWW-Authenticate",
        result.error === "missing_token" ? `Bearer realm="mcp-server"` : `Bearer realm="mcp-server", error="invalid_token", error_description="${result.description}"`,
      );
    }
    // A 403 carries no challenge: more scopes cannot help a caller outside the allow-list (a
    // WWW-Authenticate with insufficient_scope sends MCP clients off to ask for them).
    // The body was never read: close rather than leave unread bytes on a kept-alive connection.
    c.header("Connection", "close");
    return c.json({ error: { code: result.error, message: result.description } }, result.status);
  };
}

/** The caller's trace context, for a line about this request: its traceparent or X-Cloud-Trace-Context. */
function traceOf(c: Context): SpanContext | undefined {
  return incomingContext(c.req.raw.headers);
}

/**
 * An early refusal leaves the request body unread; the Node adapter drains it for at most 500 ms,
 * then destroys the socket, so a client that reused the kept-alive connection got "other side closed"
 * on its next request. `Connection: close` tells it to open a fresh one.
 */
function closing(res: Response): Response {
  res.headers.set("Connection", "close");
  return res;
}

/** The client cut or garbled the body (Node: "aborted", ECONNRESET) or went away: a 4xx, not a 500. */
export function isClientAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && (err.message === "aborted" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE");
}
