// The agent's HTTP surface: the page, health and readiness, and one turn over /chat (JSON) or
// /chat/stream (SSE). Both chat routes read the same event stream through one path that counts turns
// in flight and ends them when the client goes away or the drain deadline passes.
import { isJsonContentType } from "@modelcontextprotocol/client";
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import * as z from "zod";
import { bodyLimit } from "../../../common/body-limit.js";
import type { Logger } from "../../../common/log.js";
import type { Inflight } from "../../../common/serve.js";
import { incomingContext, withRemoteContext } from "../../../common/trace-context.js";
import { redactText } from "../../../common/redact.js";
import { AppError, mcpError, toAppError } from "../errors.js";
import {
  conversationIds,
  type ConversationIds,
  type Identify,
  type Identity,
} from "../identity/index.js";
import type { McpStatus } from "../mcp/index.js";
import { type A2aSettings, mountA2a } from "../a2a/index.js";
import { createPage, CSP, prefersHtml, type PageAssets } from "../page/serve.js";
import {
  eventStream,
  hasConversation,
  runTurn,
  type TurnDeps,
  type TurnEvent,
} from "../turn/index.js";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_MESSAGE_CHARS = 8000;
/** `/ready` waits this long for the MCP server: a probe must answer before the platform's own timeout. */
export const READY_TIMEOUT_MS = 2000;

export interface HttpDeps {
  turn: TurnDeps;
  /** The live MCP connection: `/ready` asks the server through it, `GET /` shows what was negotiated. */
  mcp?: { probe(timeoutMs: number): Promise<object>; readonly status: McpStatus } | undefined;
  identify: Identify;
  logger: Logger;
  info: Record<string, unknown>;
  newSessionId: () => string;
  inflight: Inflight;
  /** Aborted at the drain deadline: turns still running end at once with 503 shutting_down. */
  shutdown: AbortSignal;
  /** The chat page's files; without them GET / answers JSON only. */
  page?: PageAssets | undefined;
  /** Why a request's Host or Origin is refused, if it is (common/host-guard.ts). */
  guardHost: (req: Request) => string | undefined;
  /** A2A's card and endpoint, when A2A_ENABLED. */
  a2a?: A2aSettings | undefined;
}

export function shuttingDown(): AppError {
  return new AppError(
    503,
    "shutting_down",
    "This instance is shutting down: send the request again",
  );
}

const id = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/,
    "must be 1-128 characters: letters, digits and . _ : @ -",
  );

const ChatRequest = z.object(
  {
    message: z
      .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
      .trim()
      .min(1, "must not be empty")
      .max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`),
    session_id: id.optional(),
    user_id: id.optional(),
  },
  { error: 'must be a JSON object like {"message": "What is 100 USD in EUR?"}' },
);
type ChatRequest = z.infer<typeof ChatRequest>;

type Ids = { session_id: string; user_id: string };
/** What a chat route sends: the session first, then the turn's events, `done` with the ids too. */
type ChatEvent =
  | ({ type: "session" } & Ids)
  | Exclude<TurnEvent, { type: "done" }>
  | (Extract<TurnEvent, { type: "done" }> & Ids);

export function createRoutes(deps: HttpDeps): Hono {
  const app = new Hono();
  const { logger, inflight } = deps;

  /** One turn for this caller, as events; ends early when `signal` (client or drain) aborts. */
  const chatEvents = (
    caller: Identity,
    req: ChatRequest,
    client: AbortSignal,
    streamText: boolean,
  ) => {
    const signal = AbortSignal.any([client, deps.shutdown]);
    return eventStream<ChatEvent>(async (emit) => {
      const exists = (ids: ConversationIds): Promise<boolean> => hasConversation(deps.turn, ids);
      const ids = await conversationIds(caller, req, { exists, newSessionId: deps.newSessionId });
      const who = { session_id: ids.sessionId, user_id: ids.userId };
      emit({ type: "session", ...who });
      for await (const e of runTurn(deps.turn, ids, req.message, { signal, streamText })) {
        emit(e.type === "done" ? { ...e, ...who } : e);
      }
    }, signal);
  };

  const logFailure = (e: AppError, what: string, path: string): void =>
    logger.log(e.status >= 500 ? "ERROR" : "WARNING", `${what}: ${e.publicMessage}`, {
      path,
      status: e.status,
      code: e.code,
      detail: e.detail && redactText(e.detail),
    });

  // The caller's trace (Cloud Run hands every request a traceparent) is current for the whole
  // request: every log line carries it, and a turn's spans continue it.
  app.use("*", (c, next) => withRemoteContext(incomingContext(c.req.raw.headers), next));
  // Every answer, errors and streams included: nosniff, no referrer, the page's CSP.
  app.use("*", secureHeaders({ contentSecurityPolicy: CSP }));

  // Before any route: a rebound DNS name or another site's page gets nothing, not even GET /.
  app.use("*", async (c, next) => {
    const refused = deps.guardHost(c.req.raw);
    if (refused === undefined) return next();
    throw new AppError(
      403,
      "host_not_allowed",
      `${refused}: the agent answers loopback names, its own Cloud Run URL and AGENT_ALLOWED_HOSTS`,
    );
  });

  app.onError((err, c) => {
    const e = toAppError(err, c.req.raw.signal);
    logFailure(e, "request failed", c.req.path);
    if (e.retryAfterSeconds) c.header("Retry-After", String(e.retryAfterSeconds));
    // Answered before the body was read (or while it broke): the Node adapter drops such a socket
    // after a short drain, so tell the client not to reuse it.
    if ([400, 401, 403, 413, 415].includes(e.status)) c.header("Connection", "close");
    return c.json({ error: e.body }, e.status);
  });
  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );

  const page = deps.page && createPage(deps.page);
  app.get("/", (c) => {
    if (page && prefersHtml(c.req.header("accept"))) return page.respond(c);
    if (page) c.header("vary", "Accept");
    return c.json({
      ...deps.info,
      mcp_protocol_version: deps.mcp?.status.protocol_version ?? null,
      endpoints: ["/chat", "/chat/stream", "/health", "/ready"],
    });
  });
  if (page) app.route("/", page.routes);
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    const { status, body } = await readiness(deps, c.req.raw.signal);
    return c.json(body, status);
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw tooLarge();
    },
  });

  app.post("/chat", limit, async (c) => {
    const req = await readChatRequest(c);
    const caller = await deps.identify(c.req.raw.headers);
    return inflight.run(async () => {
      for await (const { type, ...body } of chatEvents(caller, req, c.req.raw.signal, false)) {
        if (type === "done") return c.json(body);
      }
      throw new Error("the turn ended without an answer");
    });
  });

  app.post("/chat/stream", limit, async (c) => {
    const req = await readChatRequest(c);
    const caller = await deps.identify(c.req.raw.headers);
    const client = new AbortController();
    return streamSSE(c, async (stream) => {
      // A client that goes away stops the turn: no model or tool work for nobody.
      stream.onAbort(() => client.abort(new Error("client disconnected")));
      await inflight.run(async () => {
        try {
          for await (const { type, ...data } of chatEvents(caller, req, client.signal, true)) {
            await stream.writeSSE({ event: type, data: JSON.stringify(data) });
          }
        } catch (err) {
          if (client.signal.aborted && !deps.shutdown.aborted) return;
          const e = toAppError(err);
          logFailure(e, "stream failed", c.req.path);
          const data = { ...e.body, status: e.status };
          await stream.writeSSE({ event: "error", data: JSON.stringify(data) });
        }
      });
    });
  });

  if (deps.a2a) mountA2a(app, deps, deps.a2a, MAX_BODY_BYTES);
  return app;
}

/** Ready when the MCP server answers now, the store can serve and the model can be used. */
async function readiness(
  deps: HttpDeps,
  signal: AbortSignal,
): Promise<{ status: 200 | 503; body: object }> {
  const unavailable = (error: { code: string; message: string }, model = {}) => ({
    status: 503 as const,
    body: { status: "unavailable", ...model, error },
  });
  let mcp: object;
  try {
    // Ask the server now: a cached tool list would say ready while the server is down.
    mcp = deps.mcp
      ? await deps.mcp.probe(READY_TIMEOUT_MS)
      : { tools: (await deps.turn.tools.listTools()).map((t) => t.name) };
  } catch (err) {
    return unavailable((err instanceof AppError ? err : mcpError(503, String(err))).body);
  }
  const { model, store } = deps.turn;
  // The store and the model are asked side by side; the model caches its answer for minutes.
  const [stored, usable] = await Promise.all([
    store.check().catch((err: unknown) => toAppError(err)),
    model.check?.(signal).catch((err: unknown) => ({
      ok: false as const,
      code: "model_unavailable",
      message: String(err),
    })),
  ]);
  if (stored) return unavailable(stored.body);
  if (usable && !usable.ok) {
    return unavailable({ code: usable.code, message: usable.message }, { model: model.name });
  }
  return { status: 200, body: { status: "ready", ...mcp, model: model.name } };
}

function tooLarge(): AppError {
  return new AppError(
    413,
    "payload_too_large",
    `Request body must be at most ${MAX_BODY_BYTES} bytes`,
  );
}

async function readChatRequest(c: Context): Promise<ChatRequest> {
  // application/json (parameters such as charset allowed), nothing else: application/json-seq is
  // a stream of records, and a …+json type names semantics this route does not implement.
  if (!isJsonContentType(c.req.header("content-type") ?? "")) {
    throw new AppError(
      415,
      "unsupported_media_type",
      "Send the request as JSON with Content-Type: application/json",
    );
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (err) {
    if (err instanceof HTTPException) throw err.status === 413 ? tooLarge() : err;
    const e = toAppError(err, c.req.raw.signal);
    if (e.status === 400) throw e;
    throw new AppError(400, "invalid_json", "The request body is not valid JSON");
  }
  const parsed = ChatRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError(
      400,
      "invalid_request",
      `${issue.path.join(".") || "body"} ${issue.message}`,
    );
  }
  return parsed.data;
}
