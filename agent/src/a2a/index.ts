// The A2A doors (CONVENTIONS 24): the card, and JSON-RPC v1.0 and v0.3 on one URL through the SDK,
// before an executor running the same turn as /chat. The SDK loads on first use (./sdk.ts).
import type { Message, SendMessageRequest, Task } from "@a2a-js/sdk";
import type { AgentExecutor, ServerCallContext, TaskStore } from "@a2a-js/sdk/server";
import { isJsonContentType } from "@modelcontextprotocol/client";
import type { Context, Hono } from "hono";
import { stream } from "hono/streaming";
import { bodyLimit } from "../../../common/body-limit.js";
import { redactText } from "../../../common/redact.js";
import { AppError, type ErrorStatus, toAppError } from "../errors.js";
import { type HttpDeps, MAX_MESSAGE_CHARS } from "../http/index.js";
import type { AgentAccess } from "../identity/index.js";
import type { ToolSpec } from "../models/types.js";
import { BoundedMap, type MapBounds } from "../sessions/index.js";
import { hasConversation, runTurn } from "../turn/index.js";
import { type A2aSdk, loadA2aSdk } from "./sdk.js";

const A2A_PATH = "/a2a";
export const TASK_BOUNDS: MapBounds = { maxEntries: 1000, maxBytes: 16 << 20, ttlMs: 3_600_000 };

export interface A2aSettings {
  /** A2A_PUBLIC_URL: the agent's URL as callers reach it; else taken from each request. */
  publicUrl: string | undefined;
  version: string;
  /** AGENT_ACCESS: the card declares the token a private or IAP agent's caller must send. */
  access: AgentAccess;
}

/** Set by the first A2A request, before anything below runs. */
let a2a: A2aSdk;

export function mountA2a(app: Hono, deps: HttpDeps, settings: A2aSettings, maxBytes: number): void {
  let doors: ReturnType<typeof createA2a> | undefined;
  // A failed load throws to this request, and the next one tries again.
  const ready = async () => {
    a2a ??= await loadA2aSdk();
    doors ??= createA2a(deps, settings);
    return doors;
  };
  app.get("/.well-known/agent-card.json", async (c) => (await ready()).card(c));
  // A JSON-RPC error, as every other refusal on this endpoint: -32600 Invalid Request.
  const error = { code: -32600, message: `The request body must be at most ${maxBytes} bytes` };
  const onError = (c: Context) => c.json({ jsonrpc: "2.0", id: null, error });
  const limit = bodyLimit({ maxSize: maxBytes, onError });
  app.post(A2A_PATH, limit, async (c) => (await ready()).rpc(c));
}

function createA2a(deps: HttpDeps, settings: A2aSettings) {
  // The handler checks versions and input modes against this card; the one served is per request.
  const template = a2a.AgentCard.fromJSON(card(deps, settings, "http://localhost/a2a", [], false));
  const handler = new (class extends a2a.DefaultRequestHandler {
    override async sendMessage(params: SendMessageRequest, context: ServerCallContext) {
      await check(deps, params, context);
      return super.sendMessage(params, context);
    }

    override async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext) {
      await check(deps, params, context);
      yield* super.sendMessageStream(params, context);
    }
  })(template, taskStore(new BoundedMap<Task>(TASK_BOUNDS)), turnExecutor(deps));
  const v1 = new a2a.JsonRpcTransportHandler(handler);
  const v03 = new a2a.LegacyJsonRpcTransportHandler(handler);

  return {
    async card(c: Context): Promise<Response> {
      const tools = await deps.turn.tools.listTools().catch(() => []);
      const url = new URL(A2A_PATH, settings.publicUrl ?? requestOrigin(c.req.raw)).href;
      // A v0.3 caller (Gemini Enterprise, ADK 2.0) sends no A2A-Version and reads v0.3 fields.
      const legacy = c.req.header(a2a.A2A_VERSION_HEADER) !== a2a.A2A_PROTOCOL_VERSION;
      c.header("vary", `${a2a.A2A_VERSION_HEADER}, X-Forwarded-Proto, X-Forwarded-Host`);
      return c.json(card(deps, settings, url, tools, legacy));
    },

    async rpc(c: Context): Promise<Response> {
      const version = c.req.header(a2a.A2A_VERSION_HEADER);
      const legacy = [undefined, a2a.A2A_LEGACY_PROTOCOL_VERSION].includes(version);
      const mapError = legacy
        ? a2a.LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError
        : a2a.JsonRpcTransportHandler.mapToJSONRPCError;
      let id: unknown = null;
      const refuse = (error: object, status?: ErrorStatus) =>
        c.json({ jsonrpc: "2.0", id, error }, status);
      try {
        const { principal = "" } = await deps.identify(c.req.raw.headers);
        const json = "Send JSON-RPC with Content-Type: application/json";
        const type = c.req.header("content-type") ?? "";
        if (!isJsonContentType(type)) throw new a2a.ContentTypeNotSupportedError(json);
        const body: unknown = await c.req.json().catch(() => undefined);
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          return refuse({ code: -32700, message: "Invalid JSON" });
        }
        id = (body as { id?: unknown }).id ?? null;
        const user = { isAuthenticated: principal !== "", userName: principal };
        const context = new a2a.ServerCallContext({ user, requestedVersion: version });
        a2a.validateVersion(context.requestedVersion, template, "JSONRPC");
        const out = await (legacy ? v03 : v1).handle(body as Record<string, unknown>, context);
        if (!(Symbol.asyncIterator in out)) return c.json(out);
        // An error before the first event is a JSON answer (below), after it an SSE error event.
        let next = await out.next();
        for (const [name, value] of Object.entries(a2a.SSE_HEADERS)) c.header(name, value);
        return stream(c, async (s) => {
          // The caller went away: the task runs on, and GetTask reads its end.
          s.onAbort(() => void out.return(undefined));
          try {
            for (; !next.done; next = await out.next())
              await s.write(a2a.formatSSEEvent(next.value));
          } catch (err) {
            await s.write(a2a.formatSSEErrorEvent({ jsonrpc: "2.0", id, error: mapError(err) }));
          }
        });
      } catch (err) {
        if (!(err instanceof AppError)) return refuse(mapError(err));
        // -32600 Invalid Request with the status /chat gives (401 for an unidentified caller).
        if (err.status === 401) c.header("www-authenticate", "Bearer");
        return refuse({ code: -32600, message: err.publicMessage }, err.status);
      }
    },
  };
}

/** Refuses, before a task exists, what a turn cannot take: a file or data part, no text, excess. */
async function check(deps: HttpDeps, { message }: SendMessageRequest, context: ServerCallContext) {
  const text = textOf(message);
  if (!text) throw new a2a.RequestMalformedError("message.parts must hold text");
  const max = `The message must be at most ${MAX_MESSAGE_CHARS} characters`;
  if (text.length > MAX_MESSAGE_CHARS) throw new a2a.RequestMalformedError(max);
  // As on /chat: an anonymous caller continues only conversations the agent started, so two
  // callers choosing the same contextId never share one.
  const sessionId = message?.contextId;
  if (context.user?.isAuthenticated || !sessionId) return;
  const unknown = "contextId names no conversation of this agent: leave it out to start one";
  const known = await hasConversation(deps.turn, { userId: "anonymous", sessionId });
  if (!known) throw new a2a.RequestMalformedError(unknown);
}

function textOf(message: Message | undefined): string {
  const texts = (message?.parts ?? []).map((p) => {
    if (p.content?.$case === "text") return p.content.value;
    throw new a2a.ContentTypeNotSupportedError("This agent reads text parts only");
  });
  return texts.join("\n").trim();
}

/** This instance's tasks (GetTask, CancelTask), keyed by the caller as in the SDK's own store. */
export function taskStore(tasks: BoundedMap<Task>): TaskStore {
  const key = (taskId: string, context: ServerCallContext): string =>
    JSON.stringify([context.tenant ?? "", context.user?.userName ?? "", taskId]);
  return {
    load: async (taskId, context) => structuredClone(tasks.get(key(taskId, context))),
    async save(task, context) {
      const id = key(task.id, context);
      tasks.set(id, structuredClone(task), Buffer.byteLength(JSON.stringify(task)) + 2 * id.length);
    },
    async list() {
      throw new a2a.UnsupportedOperationError("Ask for a task by its id: no task lists");
    },
  };
}

/** One A2A message = one turn of the conversation `contextId`, under the caller's identity. */
function turnExecutor(deps: HttpDeps): AgentExecutor {
  const running = new Map<string, AbortController>();
  return {
    async execute(ctx, bus) {
      const { taskId, contextId } = ctx;
      const ref = { taskId, contextId };
      // Events are written in the protocol's JSON and read by the SDK's own codecs.
      const uuid = () => crypto.randomUUID();
      const parts = (text: string) => [{ text, mediaType: "text/plain" }];
      const status = (state: string, text?: string) => {
        const said = text && { ...ref, messageId: uuid(), role: "ROLE_AGENT", parts: parts(text) };
        const status = { state, message: said, timestamp: new Date().toISOString() };
        const update = a2a.TaskStatusUpdateEvent.fromJSON({ ...ref, status });
        bus.publish(a2a.AgentEvent.statusUpdate(update));
      };
      const submitted = { id: taskId, contextId, status: { state: "TASK_STATE_SUBMITTED" } };
      // The message as the request context holds it, its task and context ids filled in.
      const task = { ...a2a.Task.fromJSON(submitted), history: [ctx.userMessage] };
      if (!ctx.task) bus.publish(a2a.AgentEvent.task(task));
      const cancel = new AbortController();
      running.set(taskId, cancel);
      const signal = AbortSignal.any([cancel.signal, deps.shutdown]);
      // Keyed as /chat keys a conversation: the caller's principal, or "anonymous".
      const ids = { userId: ctx.context.user?.userName || "anonymous", sessionId: contextId };
      try {
        await deps.inflight.run(async () => {
          status("TASK_STATE_WORKING");
          for await (const e of runTurn(deps.turn, ids, textOf(ctx.userMessage), { signal })) {
            if (e.type === "tool_call") status("TASK_STATE_WORKING", `${e.name}…`);
            if (e.type !== "done") continue;
            const artifact = { artifactId: uuid(), name: "answer", parts: parts(e.response) };
            const last = { ...ref, artifact, lastChunk: true };
            bus.publish(a2a.AgentEvent.artifactUpdate(a2a.TaskArtifactUpdateEvent.fromJSON(last)));
            status("TASK_STATE_COMPLETED");
          }
        });
      } catch (err) {
        if (cancel.signal.aborted) return status("TASK_STATE_CANCELED", "Canceled");
        // The message /chat gives for the same failure (an MCP server down: mcp_unavailable).
        const e = toAppError(err);
        const detail = e.detail && redactText(e.detail);
        const level = e.status >= 500 ? "ERROR" : "WARNING";
        deps.logger.log(level, "A2A task failed", { code: e.code, detail });
        status("TASK_STATE_FAILED", e.publicMessage);
      } finally {
        running.delete(taskId);
        bus.finished();
      }
    },

    /** Ends the turn as a client that goes away does; execute publishes the canceled state. */
    async cancelTask(taskId) {
      running.get(taskId)?.abort(new Error("task canceled"));
    },
  };
}

/** Cloud Run forwards https as X-Forwarded-Proto; its Host is the service's own name. */
function requestOrigin(req: Request): string {
  const url = new URL(req.url);
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  return `${proto || url.protocol.slice(0, -1)}://${host || url.host}`;
}

/** The card in v1.0's JSON; for a v0.3 caller, v0.3's fields beside (as the SDK's Express app). */
function card(deps: HttpDeps, settings: A2aSettings, url: string, tools: ToolSpec[], v03: boolean) {
  const app = deps.turn.app;
  // The instruction's first sentence: what the agent is for, not the owner's whole prompt.
  const purpose = /^[^.!?\n]{1,200}[.!?]?/.exec(deps.turn.instruction.trim())?.[0] ?? app;
  const uses = tools.map((t) => `${t.name}${t.description ? ` (${t.description})` : ""}`);
  const skill = uses.length ? `${purpose} Tools: ${uses.join("; ")}` : purpose;
  const secured = settings.access !== "public";
  const oidc = {
    description: "A Google ID token whose audience is this service's URL, as Authorization: Bearer",
    openIdConnectUrl: "https://accounts.google.com/.well-known/openid-configuration",
  };
  return {
    name: app,
    description: purpose,
    supportedInterfaces: [a2a.A2A_PROTOCOL_VERSION, a2a.A2A_LEGACY_PROTOCOL_VERSION].map(
      (protocolVersion) => ({ url, protocolBinding: "JSONRPC", protocolVersion }),
    ),
    version: settings.version,
    capabilities: { streaming: true, pushNotifications: false },
    ...(secured && {
      securitySchemes: { google_id_token: { openIdConnectSecurityScheme: oidc } },
      securityRequirements: [{ schemes: { google_id_token: {} } }],
    }),
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [{ id: "chat", name: app, description: skill, tags: tools.map((t) => t.name) }],
    ...(v03 && { protocolVersion: "0.3.0", url, preferredTransport: "JSONRPC" }),
    ...(v03 &&
      secured && {
        securitySchemes: { google_id_token: { type: "openIdConnect", ...oidc } },
        security: [{ google_id_token: [] }],
      }),
  };
}
