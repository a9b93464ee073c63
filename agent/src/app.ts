import { Hono, type Context } from "hono";
import { bodyLimit } from "../../common/body-limit.js";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { ToolsUnavailableError, type ChatService, type ToolHost, type TurnEvent } from "./chat.js";
import { conversationIds, createIdentify, IdentityError, type ConversationIds, type Identify } from "./identity.js";
import type { Logger } from "./log.js";
import { McpUnavailableError, type McpConnection } from "./mcp-client.js";
import { ModelError, type Model } from "./models/types.js";
import { createPage, prefersHtml, type PageAssets } from "./page/serve.js";
import { originOf, publicText, redactText } from "./redact.js";
import { SessionStoreError, type SessionStore } from "./sessions.js";
import { incomingContext, withRemoteContext } from "../../common/trace.js";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_MESSAGE_CHARS = 8000;
/** `/ready` waits this long for the MCP server: a probe must answer before the platform's own timeout. */
export const READY_TIMEOUT_MS = 2000;

export interface AppDeps {
  chat: ChatService;
  tools: ToolHost;
  /** Checked by GET /ready (a retired or unknown model shows there, not only in chats). */
  model?: Pick<Model, "name" | "check"> | undefined;
  /** The live MCP connection: `/ready` asks the server through it, `GET /` shows what was negotiated. */
  mcp?: Pick<McpConnection, "probe" | "status"> | undefined;
  logger: Logger;
  info: { name: string; version: string; model: string; mcp_server_url: string; transport: string; mcp_auth: string; session_store?: string };
  /** Checked by /ready beside the MCP server. */
  store?: Pick<SessionStore, "check">;
  newSessionId?: () => string;
  /** Counts turns in flight, so SIGTERM can wait for them. */
  inflight?: { count: number };
  /** The chat page's files; without them GET / answers JSON only. */
  page?: PageAssets;
  /** Who the caller is (AGENT_ACCESS); anonymous when absent. */
  identify?: Identify;
  /**
   * Aborted by SIGTERM's drain deadline: turns still running end at once, streams with an `error`
   * event (503) and waiting requests with a 503 JSON answer, instead of being cut off silently.
   */
  shutdown?: AbortSignal;
}

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, "must be 1-128 characters: letters, digits and . _ : @ -");

const ChatRequest = z.object({
  message: z
    .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
    .trim()
    .min(1, "must not be empty")
    .max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`),
  session_id: id.optional(),
  user_id: id.optional(),
});

class ApiError extends HTTPException {
  constructor(
    status: 400 | 401 | 413 | 415 | 502 | 503,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
  }
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const newSessionId = deps.newSessionId ?? (() => crypto.randomUUID());
  const inflight = deps.inflight ?? { count: 0 };
  const identify = deps.identify ?? createIdentify({ access: "public" });
  const shutdown = deps.shutdown;

  /** The caller's conversation: see identity.ts for who may continue which. */
  const idsFor = async (c: Context, req: z.infer<typeof ChatRequest>): Promise<ConversationIds> =>
    conversationIds(await identify(c.req.raw.headers), req, { exists: (ids) => deps.chat.hasConversation(ids), newSessionId });

  const turnSignal = (client: AbortSignal): AbortSignal => (shutdown ? AbortSignal.any([client, shutdown]) : client);
  /** Settles with the turn, or with a 503 the moment the drain deadline passes. */
  const untilShutdown = <T>(turn: Promise<T>): Promise<T> => {
    if (!shutdown) return turn;
    return new Promise<T>((resolve, reject) => {
      const onDeadline = (): void => reject(shuttingDown());
      if (shutdown.aborted) onDeadline();
      shutdown.addEventListener("abort", onDeadline, { once: true });
      turn.then(resolve, reject).finally(() => shutdown.removeEventListener("abort", onDeadline));
    });
  };

  // The caller's trace (Cloud Run hands every request a traceparent) is current for the whole request:
  // every log line carries it, and a turn's spans continue it.
  app.use("*", (c, next) => withRemoteContext(incomingContext(c.req.raw.headers), next));

  app.onError((err, c) => {
    const log = deps.logger.child({ path: c.req.path });
    const { status, code, message } = toHttpError(err, c.req.raw.signal);
    log.log(status >= 500 ? "ERROR" : "WARNING", `request failed: ${message}`, { status, code, detail: detailOf(err) });
    if (err instanceof ModelError && err.retryAfterSeconds) c.header("Retry-After", String(err.retryAfterSeconds));
    // Answered before the body was read (or while it broke): the Node adapter drops such a socket
    // after a short drain, so tell the client not to reuse it.
    if (status === 400 || status === 401 || status === 413 || status === 415) c.header("Connection", "close");
    return c.json({ error: { code, message } }, status);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404));

  const page = deps.page && createPage(deps.page);
  app.get("/", (c) => {
    if (page && prefersHtml(c.req.header("accept"))) return page.respond(c);
    if (page) c.header("vary", "Accept");
    return c.json({ ...deps.info, mcp_server_url: originOf(deps.info.mcp_server_url), mcp_protocol_version: deps.mcp?.status.protocol_version ?? null, endpoints: ["/chat", "/chat/stream", "/health", "/ready"] });
  });
  if (page) app.route("/", page.routes);
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    let mcp: object;
    try {
      // Ask the server now: a cached tool list would say ready while the server is down.
      mcp = deps.mcp ? await deps.mcp.probe(READY_TIMEOUT_MS) : { tools: (await deps.tools.listTools()).map((t) => t.name) };
    } catch (err) {
      return c.json({ status: "unavailable", error: { code: "mcp_unavailable", message: toHttpError(err).message } }, 503);
    }
    // The store and the model are asked side by side; the model caches its answer for minutes.
    const [store, model] = await Promise.all([
      deps.store?.check().then(
        () => undefined,
        (err: unknown) => toHttpError(err),
      ),
      deps.model?.check?.(c.req.raw.signal).catch((err: unknown) => ({ ok: false as const, code: "model_unavailable", message: String(err) })),
    ]);
    if (store) return c.json({ status: "unavailable", error: { code: store.code, message: store.message } }, 503);
    if (model && !model.ok) {
      return c.json({ status: "unavailable", model: deps.model!.name, error: { code: model.code, message: model.message } }, 503);
    }
    return c.json({ status: "ready", ...mcp, ...(deps.model ? { model: deps.model.name } : {}) });
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `Request body must be at most ${MAX_BODY_BYTES} bytes`);
    },
  });

  app.post("/chat", limit, async (c) => {
    const req = await readChatRequest(c);
    inflight.count++;
    try {
      const ids = await untilShutdown(idsFor(c, req));
      const result = await untilShutdown(deps.chat.runTurn(ids, req.message, { signal: turnSignal(c.req.raw.signal) }));
      return c.json({ response: result.response, session_id: ids.sessionId, user_id: ids.userId, tool_calls: result.toolCalls });
    } finally {
      inflight.count--;
    }
  });

  app.post("/chat/stream", limit, async (c) => {
    const req = await readChatRequest(c);
    const ids = await idsFor(c, req);
    const abort = new AbortController();
    return streamSSE(c, async (stream) => {
      // A client that goes away stops the turn: no model or tool work for nobody.
      stream.onAbort(() => abort.abort(new Error("client disconnected")));
      const send = (event: string, data: unknown): Promise<void> => stream.writeSSE({ event, data: JSON.stringify(data) });
      inflight.count++;
      try {
        await send("session", { session_id: ids.sessionId, user_id: ids.userId });
        const onEvent = (e: TurnEvent): void => {
          const { type, ...data } = e;
          void send(type, data);
        };
        const result = await untilShutdown(deps.chat.runTurn(ids, req.message, { signal: turnSignal(abort.signal), onEvent }));
        await send("done", { response: result.response, session_id: ids.sessionId, user_id: ids.userId, tool_calls: result.toolCalls });
      } catch (err) {
        if (abort.signal.aborted && !shutdown?.aborted) return;
        const { status, code, message } = toHttpError(err);
        deps.logger.log(status >= 500 ? "ERROR" : "WARNING", `stream failed: ${message}`, { status, code, detail: detailOf(err) });
        await send("error", { code, message, status });
      } finally {
        inflight.count--;
      }
    });
  });

  return app;
}

function shuttingDown(): ApiError {
  return new ApiError(503, "shutting_down", "This instance is shutting down: send the request again");
}

async function readChatRequest(c: Context): Promise<z.infer<typeof ChatRequest>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Send the request as JSON with Content-Type: application/json");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (err) {
    if (err instanceof HTTPException) throw err;
    if (isClientAbort(err, c.req.raw.signal)) throw new ApiError(400, "body_unreadable", "The request body could not be read");
    throw new ApiError(400, "invalid_json", "The request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_request", 'The request body must be a JSON object like {"message": "What is 100 USD in EUR?"}');
  }
  const parsed = ChatRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(400, "invalid_request", `${issue.path.join(".") || "body"} ${issue.message}`);
  }
  return parsed.data;
}

type HttpError = { status: 400 | 401 | 413 | 415 | 500 | 502 | 503; code: string; message: string };

function toHttpError(err: unknown, signal?: AbortSignal): HttpError {
  if (err instanceof ApiError) return { status: err.status as 400, code: err.code, message: err.message };
  if (err instanceof IdentityError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof HTTPException && err.status === 413) return { status: 413, code: "payload_too_large", message: `Request body must be at most ${MAX_BODY_BYTES} bytes` };
  if (err instanceof ModelError) return { status: err.status, code: err.code, message: publicText(err.message) };
  if (err instanceof McpUnavailableError) return { status: err.status, code: "mcp_unavailable", message: mcpMessage(err.message, err.status) };
  if (err instanceof ToolsUnavailableError) return { status: 503, code: "mcp_unavailable", message: mcpMessage(err.message, 503) };
  if (err instanceof SessionStoreError) return { status: err.status, code: err.code, message: publicText(err.message) };
  // The client cut or garbled its body (Node has already answered 400) or went away: not our error.
  if (isClientAbort(err, signal)) return { status: 400, code: "body_unreadable", message: "The request body could not be read" };
  return { status: 500, code: "internal", message: "Internal error; see the service logs" };
}

/**
 * Public wording of an MCP failure: what failed and what to do, never the server's internal address
 * or the transport's raw error (both go to the logs).
 */
function mcpMessage(message: string, status: number): string {
  if (status !== 503) return publicText(message);
  const what = /did not answer in time/.test(message) ? "The MCP server did not answer in time" : "The MCP server cannot be reached";
  return `${what}: try again in a moment; if it persists, the agent's logs name the cause (check MCP_SERVER_URL and the MCP server's health)`;
}

/** Node's "aborted" (ECONNRESET) for a body cut short or malformed, or the client gone. */
function isClientAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && (err.message === "aborted" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE");
}

function detailOf(err: unknown): string | undefined {
  if (err instanceof ModelError) return err.detail && redactText(err.detail);
  if (err instanceof SessionStoreError) return redactText(err.detail ?? err.message);
  return redactText(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}
