// A2A over the agent's one turn: the official SDK's request handler and JSON-RPC transports (v1.0,
// and v0.3 on the same URL) in front of an executor that runs runTurn, as /chat does. Loaded on
// first use by ./routes.ts.
import type { AgentCard, Message, SendMessageRequest, TaskState } from "@a2a-js/sdk";
import type {
  AgentExecutor,
  ExecutionEventBus,
  RequestContext,
  ServerCallContext,
} from "@a2a-js/sdk/server";
import { isJsonContentType } from "@modelcontextprotocol/client";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import { redactText } from "../../../common/redact.js";
import { AppError, toAppError } from "../errors.js";
import { type HttpDeps, MAX_MESSAGE_CHARS } from "../http/index.js";
import { conversationIds, type Identity } from "../identity/index.js";
import { hasConversation, runTurn } from "../turn/index.js";
import { A2A_PATH, type A2aSettings } from "./routes.js";
import { type A2aSdk, loadA2aSdk } from "./sdk.js";
import { BoundedTaskStore } from "./tasks.js";

const CALLER = "caller";
/** Set once, by the first createA2a, before anything below runs. */
let a2a: A2aSdk;
const GOOGLE_OIDC = "https://accounts.google.com/.well-known/openid-configuration";

export async function createA2a(deps: HttpDeps, settings: A2aSettings) {
  a2a ??= await loadA2aSdk();
  const { A2A_PROTOCOL_VERSION, A2A_VERSION_HEADER, AgentCard } = a2a;
  const { JsonRpcTransportHandler, LegacyJsonRpcTransportHandler } = a2a;
  // The handler checks versions and input modes against this card; the one served is per request.
  const template = card(deps, settings, "http://localhost", []);
  const handler = turnRequestHandler(deps, template);
  const v1 = new JsonRpcTransportHandler(handler);
  const v03 = new LegacyJsonRpcTransportHandler(handler);

  return {
    async card(c: Context): Promise<Response> {
      const tools = await deps.turn.tools.listTools().catch(() => []);
      const base = settings.publicUrl ?? requestOrigin(c.req.raw);
      const full = card(deps, settings, base, tools);
      c.header("vary", `${A2A_VERSION_HEADER}, X-Forwarded-Proto, X-Forwarded-Host`);
      // A v0.3 caller (Gemini Enterprise, ADK 2.0) sends no A2A-Version and reads v0.3 fields.
      if (c.req.header(A2A_VERSION_HEADER) === A2A_PROTOCOL_VERSION) {
        return c.json(AgentCard.toJSON(full) as object);
      }
      return c.json({ ...(AgentCard.toJSON(full) as object), ...legacyCard(full) });
    },

    async rpc(c: Context): Promise<Response> {
      const version = c.req.header(A2A_VERSION_HEADER);
      const legacy =
        (version ?? a2a.A2A_LEGACY_PROTOCOL_VERSION) === a2a.A2A_LEGACY_PROTOCOL_VERSION;
      const mapError = legacy
        ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError
        : JsonRpcTransportHandler.mapToJSONRPCError;
      let id: unknown = null;
      const fail = (err: unknown): Response => {
        const e = err instanceof AppError ? err : undefined;
        if (!e) return c.json({ jsonrpc: "2.0", id, error: mapError(err) });
        // -32600 Invalid Request with the status /chat gives (401 for an unidentified caller).
        if (e.status === 401) c.header("www-authenticate", "Bearer");
        const error = { code: -32600, message: e.publicMessage };
        return c.json({ jsonrpc: "2.0", id, error }, e.status);
      };
      try {
        const caller = await deps.identify(c.req.raw.headers);
        if (!isJsonContentType(c.req.header("content-type") ?? "")) {
          throw new a2a.ContentTypeNotSupportedError(
            "Send JSON-RPC with Content-Type: application/json",
          );
        }
        const body: unknown = await c.req.json().catch(() => undefined);
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          return c.json({ jsonrpc: "2.0", id, error: { code: -32700, message: "Invalid JSON" } });
        }
        id = (body as { id?: unknown }).id ?? null;
        const user = caller.principal
          ? { isAuthenticated: true, userName: caller.principal }
          : { isAuthenticated: false, userName: "" };
        const context = new a2a.ServerCallContext({
          user,
          requestedVersion: version,
          state: new Map([[CALLER, caller]]),
        });
        a2a.validateVersion(context.requestedVersion, template, "JSONRPC");
        const out = await (legacy ? v03 : v1).handle(body as Record<string, unknown>, context);
        if (!(Symbol.asyncIterator in out)) return c.json(out);
        // An error before the first event is a JSON answer (in fail), after it an SSE error event.
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
        return fail(err);
      }
    },
  };
}

/** Text in, or an A2A error before any task exists: a file or data part, no text, too much. */
function turnRequestHandler(deps: HttpDeps, card: AgentCard) {
  const list = () => new a2a.UnsupportedOperationError("Ask for a task by its id: no task lists");
  const check = async ({ message }: SendMessageRequest, context: ServerCallContext) => {
    const text = textOf(message);
    if (!text) throw new a2a.RequestMalformedError("message.parts must hold text");
    if (text.length > MAX_MESSAGE_CHARS) {
      const max = `The message must be at most ${MAX_MESSAGE_CHARS} characters`;
      throw new a2a.RequestMalformedError(max);
    }
    // As on /chat: an anonymous caller continues only conversations the agent started, so two
    // callers choosing the same contextId never share one.
    const caller = context.state.get(CALLER) as Identity;
    const sessionId = message?.contextId;
    if (caller.principal || !sessionId) return;
    if (!(await hasConversation(deps.turn, { userId: "anonymous", sessionId }))) {
      throw new a2a.RequestMalformedError(
        "contextId names no conversation of this agent: leave it out to start one",
      );
    }
  };
  return new (class extends a2a.DefaultRequestHandler {
    override async sendMessage(params: SendMessageRequest, context: ServerCallContext) {
      await check(params, context);
      return super.sendMessage(params, context);
    }

    override async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext) {
      await check(params, context);
      yield* super.sendMessageStream(params, context);
    }
  })(card, new BoundedTaskStore({}, list), new TurnExecutor(deps));
}

function textOf(message: Message | undefined): string {
  const texts = (message?.parts ?? []).map((p) => {
    if (p.content?.$case === "text") return p.content.value;
    throw new a2a.ContentTypeNotSupportedError("This agent reads text parts only");
  });
  return texts.join("\n").trim();
}

/** One A2A message = one turn of the conversation `contextId`, under the caller's identity. */
class TurnExecutor implements AgentExecutor {
  readonly #running = new Map<string, AbortController>();

  constructor(private readonly deps: HttpDeps) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId, userMessage } = ctx;
    const status = (state: TaskState, message?: Message) =>
      bus.publish(
        a2a.AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state, message, timestamp: new Date().toISOString() },
          metadata: undefined,
        }),
      );
    const reply = (text: string): Message => agentMessage(taskId, contextId, text);
    if (!ctx.task) {
      const status = {
        state: a2a.TaskState.TASK_STATE_SUBMITTED,
        message: undefined,
        timestamp: "",
      };
      const task = { id: taskId, contextId, status, history: [userMessage], artifacts: [] };
      bus.publish(a2a.AgentEvent.task({ ...task, metadata: undefined }));
    }
    const cancel = new AbortController();
    this.#running.set(taskId, cancel);
    const signal = AbortSignal.any([cancel.signal, this.deps.shutdown]);
    const caller = ctx.context.state.get(CALLER) as Identity;
    try {
      await this.deps.inflight.run(async () => {
        const ids = await conversationIds(
          caller,
          { session_id: contextId },
          { exists: async () => true, newSessionId: () => contextId },
        );
        status(a2a.TaskState.TASK_STATE_WORKING);
        for await (const e of runTurn(this.deps.turn, ids, textOf(userMessage), { signal })) {
          if (e.type === "tool_call") status(a2a.TaskState.TASK_STATE_WORKING, reply(`${e.name}…`));
          if (e.type !== "done") continue;
          const parts = reply(e.response).parts;
          const artifact = { artifactId: crypto.randomUUID(), name: "answer", description: "" };
          bus.publish(
            a2a.AgentEvent.artifactUpdate({
              taskId,
              contextId,
              artifact: { ...artifact, parts, metadata: undefined, extensions: [] },
              append: false,
              lastChunk: true,
              metadata: undefined,
            }),
          );
          status(a2a.TaskState.TASK_STATE_COMPLETED);
        }
      });
    } catch (err) {
      if (cancel.signal.aborted) status(a2a.TaskState.TASK_STATE_CANCELED, reply("Canceled"));
      else {
        // The message /chat gives for the same failure (an MCP server down: mcp_unavailable).
        const e = toAppError(err);
        this.deps.logger.log(e.status >= 500 ? "ERROR" : "WARNING", `A2A task failed`, {
          code: e.code,
          detail: e.detail && redactText(e.detail),
        });
        status(a2a.TaskState.TASK_STATE_FAILED, reply(e.publicMessage));
      }
    } finally {
      this.#running.delete(taskId);
      bus.finished();
    }
  }

  /** Ends the turn as a client that goes away does; execute publishes the canceled state. */
  async cancelTask(taskId: string): Promise<void> {
    this.#running.get(taskId)?.abort(new Error("task canceled"));
  }
}

function agentMessage(taskId: string, contextId: string, text: string): Message {
  const part = { content: { $case: "text" as const, value: text }, metadata: undefined };
  return {
    messageId: crypto.randomUUID(),
    contextId,
    taskId,
    role: 2, // ROLE_AGENT
    parts: [{ ...part, filename: "", mediaType: "text/plain" }],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** Cloud Run forwards https as X-Forwarded-Proto; its Host is the service's own name. */
function requestOrigin(req: Request): string {
  const url = new URL(req.url);
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const host = req.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  return `${proto || url.protocol.slice(0, -1)}://${host || url.host}`;
}

function card(
  deps: HttpDeps,
  settings: A2aSettings,
  base: string,
  tools: Array<{ name: string; description?: string | undefined }>,
): AgentCard {
  const app = deps.turn.app;
  const url = new URL(A2A_PATH, base).href;
  const iface = {
    url,
    protocolBinding: "JSONRPC",
    tenant: "",
    protocolVersion: a2a.A2A_PROTOCOL_VERSION,
  };
  // The instruction's first sentence: what the agent is for, not the owner's whole prompt.
  const purpose = /^[^.!?\n]{1,200}[.!?]?/.exec(deps.turn.instruction.trim())?.[0] ?? app;
  const uses = tools.map((t) => `${t.name}${t.description ? ` (${t.description})` : ""}`);
  const skill = {
    id: "chat",
    name: app,
    description: uses.length ? `${purpose} Tools: ${uses.join("; ")}` : purpose,
    tags: tools.map((t) => t.name),
    examples: [],
    inputModes: ["text/plain"],
    outputModes: ["text/plain"],
    securityRequirements: [],
  };
  const scheme = (description: string) => ({ description, openIdConnectUrl: GOOGLE_OIDC });
  const secured = settings.access !== "public";
  return {
    name: app,
    description: purpose,
    supportedInterfaces: a2a.duplicateInterfacesForLegacy([iface], ["JSONRPC"]),
    provider: undefined,
    version: settings.version,
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: secured
      ? {
          google_id_token: {
            scheme: {
              $case: "openIdConnectSecurityScheme",
              value: scheme(
                "A Google ID token whose audience is this service's URL, as Authorization: Bearer",
              ),
            },
          },
        }
      : {},
    securityRequirements: secured ? [{ schemes: { google_id_token: { list: [] } } }] : [],
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [skill],
    signatures: [],
  };
}

/** The v0.3 fields beside v1.0's supportedInterfaces (the SDK's hybrid card for v0.3 callers). */
function legacyCard(full: AgentCard) {
  const v03 = full.supportedInterfaces.find((i) => i.protocolVersion !== a2a.A2A_PROTOCOL_VERSION);
  const secured = full.securityRequirements.length > 0;
  return {
    protocolVersion: "0.3.0",
    url: v03?.url,
    preferredTransport: "JSONRPC",
    skills: full.skills.map(({ id, name, description, tags }) => ({ id, name, description, tags })),
    ...(secured
      ? {
          securitySchemes: {
            google_id_token: { type: "openIdConnect", openIdConnectUrl: GOOGLE_OIDC },
          },
          security: [{ google_id_token: [] }],
        }
      : {}),
  };
}
