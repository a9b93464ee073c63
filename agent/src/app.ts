import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { ToolsUnavailableError, type ChatService, type ToolHost, type TurnEvent } from "./chat.js";
import { traceFields, type Logger } from "./log.js";
import { McpUnavailableError } from "./mcp-client.js";
import { ModelError } from "./models/types.js";
import { SessionStoreError, type SessionStore } from "./sessions.js";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_MESSAGE_CHARS = 8000;

export interface AppDeps {
  chat: ChatService;
  tools: ToolHost;
  logger: Logger;
  info: { name: string; version: string; model: string; mcp_server_url: string; transport: string; mcp_auth: string; session_store?: string };
  /** Checked by /ready beside the MCP server. */
  store?: Pick<SessionStore, "check">;
  newSessionId?: () => string;
  project?: string | undefined;
  /** Counts turns in flight, so SIGTERM can wait for them. */
  inflight?: { count: number };
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
    status: 400 | 413 | 415 | 502 | 503,
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

  app.onError((err, c) => {
    const log = deps.logger.child({ path: c.req.path, ...traceFields(c.req.header("x-cloud-trace-context"), deps.project) });
    const { status, code, message } = toHttpError(err);
    log.log(status >= 500 ? "ERROR" : "WARNING", `request failed: ${message}`, { status, code, detail: detailOf(err) });
    return c.json({ error: { code, message } }, status);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404));

  app.get("/", (c) => c.json({ ...deps.info, endpoints: ["/chat", "/chat/stream", "/health", "/ready"] }));
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    const [tools, store] = await Promise.allSettled([deps.tools.listTools(), deps.store?.check()]);
    if (tools.status === "rejected") {
      return c.json({ status: "unavailable", error: { code: "mcp_unavailable", message: (tools.reason as Error).message } }, 503);
    }
    if (store.status === "rejected") {
      const { code, message } = toHttpError(store.reason);
      return c.json({ status: "unavailable", error: { code, message } }, 503);
    }
    return c.json({ status: "ready", tools: tools.value.map((t) => t.name) });
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `Request body must be at most ${MAX_BODY_BYTES} bytes`);
    },
  });

  app.post("/chat", limit, async (c) => {
    const req = await readChatRequest(c);
    const ids = { userId: req.user_id ?? "anonymous", sessionId: req.session_id ?? newSessionId() };
    inflight.count++;
    try {
      const result = await deps.chat.runTurn(ids, req.message, { signal: c.req.raw.signal });
      return c.json({ response: result.response, session_id: ids.sessionId, user_id: ids.userId, tool_calls: result.toolCalls });
    } finally {
      inflight.count--;
    }
  });

  app.post("/chat/stream", limit, async (c) => {
    const req = await readChatRequest(c);
    const ids = { userId: req.user_id ?? "anonymous", sessionId: req.session_id ?? newSessionId() };
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
        const result = await deps.chat.runTurn(ids, req.message, { signal: abort.signal, onEvent });
        await send("done", { response: result.response, session_id: ids.sessionId, user_id: ids.userId, tool_calls: result.toolCalls });
      } catch (err) {
        if (abort.signal.aborted) return;
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

function toHttpError(err: unknown): { status: 400 | 413 | 415 | 500 | 502 | 503; code: string; message: string } {
  if (err instanceof ApiError) return { status: err.status as 400, code: err.code, message: err.message };
  if (err instanceof HTTPException && err.status === 413) return { status: 413, code: "payload_too_large", message: `Request body must be at most ${MAX_BODY_BYTES} bytes` };
  if (err instanceof ModelError) return { status: err.status, code: "model_unavailable", message: err.message };
  if (err instanceof McpUnavailableError) return { status: err.status, code: "mcp_unavailable", message: err.message };
  if (err instanceof ToolsUnavailableError) return { status: 503, code: "mcp_unavailable", message: err.message };
  if (err instanceof SessionStoreError) return { status: err.status, code: err.code, message: err.message };
  return { status: 500, code: "internal", message: "Internal error; see the service logs" };
}

function detailOf(err: unknown): string | undefined {
  if (err instanceof ModelError) return err.detail;
  if (err instanceof SessionStoreError) return err.detail ?? err.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
