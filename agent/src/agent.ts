// createAgent builds the whole agent from its configuration: model, session store, MCP connection,
// identity, tracing and the HTTP routes. It opens no port; main.ts serves it. Tests pass overrides.
import { setTimeout as sleep } from "node:timers/promises";
import type { FetchLike } from "@modelcontextprotocol/client";
import type { Hono } from "hono";
import { createHostGuard } from "../../common/host-guard.js";
import { createStartupLogger, type Logger } from "../../common/log.js";
import { configureTraceProject } from "../../common/trace-context.js";
import { Inflight } from "../../common/serve.js";
import { startTracing } from "../../common/tracing.js";
import type { Config } from "./config.js";
import { redactUrl } from "../../common/redact.js";
import { createRoutes, shuttingDown } from "./http/index.js";
import { createIdentify, type Identify } from "./identity/index.js";
import { createMcpConnection } from "./mcp/index.js";
import { createModel, type Model } from "./models/index.js";
import { loadPageAssets } from "./page/load.js";
import type { PageAssets } from "./page/serve.js";
import { MemorySessionStore, type SessionStore } from "./sessions/index.js";
import type { ToolHost } from "./turn/index.js";

declare const __SERVICE_VERSION__: string;
export const VERSION = typeof __SERVICE_VERSION__ === "string" ? __SERVICE_VERSION__ : "dev";

export interface AgentOverrides {
  logger?: Logger;
  model?: Model;
  /** Tools from somewhere else than the MCP server (a test's tool host). */
  tools?: ToolHost;
  /** The fetch the MCP transport uses (the ID-token header provider wraps it when MCP_AUTH asks). */
  fetch?: FetchLike;
  store?: SessionStore;
  identify?: Identify;
  newSessionId?: () => string;
  /** The chat page's files; `null` serves JSON only at GET /. */
  page?: PageAssets | null;
}

export interface Agent {
  app: Hono;
  /** What start-up says about this agent, for the "listening" log line. */
  summary: Record<string, unknown>;
  /** Turns in flight, for the "shutting down" line. */
  status(): { turns_in_flight: number };
  /**
   * Lets turns in flight finish until `deadline` (ms since the epoch), then ends those still running
   * with 503 shutting_down (streams get an `error` event) rather than dropping them silently.
   */
  drain(deadline: number): Promise<{ turns_answered_503: number; turns_abandoned: number }>;
  /** Closes the MCP connection and the store, and flushes traces; bounded in time. */
  close(): Promise<void>;
}

export async function createAgent(config: Config, overrides: AgentOverrides = {}): Promise<Agent> {
  const logger = overrides.logger ?? createStartupLogger({ service: "agent" }, config.env, false);
  configureTraceProject(config.env);
  const tracing = await startTracing(config.env, logger, {
    serviceName: "agent",
    version: VERSION,
    googleAuthHeaders: googleAuthHeaders(),
  });
  const model = overrides.model ?? (await createModel(config));
  const store = overrides.store ?? (await createStore(config, logger));
  // Opens on first use (a turn, /ready, or GET / asking for the protocol version), not at start.
  const mcp = overrides.tools
    ? undefined
    : createMcpConnection(config, logger, VERSION, overrides.fetch);
  const description = describe(config, model, store, mcp);
  const inflight = new Inflight();
  const shutdown = new AbortController();
  const app = createRoutes({
    turn: {
      model,
      tools: overrides.tools ?? mcp!,
      store,
      logger,
      app: config.APP_NAME,
      instruction: config.instruction.text,
    },
    mcp,
    identify:
      overrides.identify ??
      createIdentify({
        access: config.AGENT_ACCESS,
        iapAudience: config.IAP_AUDIENCE,
        iapKeysUrl: config.IAP_KEYS_URL,
      }),
    logger,
    info: description.info,
    newSessionId: overrides.newSessionId ?? (() => crypto.randomUUID()),
    inflight,
    shutdown: shutdown.signal,
    page: overrides.page === null ? undefined : (overrides.page ?? (await loadPageAssets())),
    a2a: config.A2A_ENABLED
      ? { publicUrl: config.A2A_PUBLIC_URL, version: VERSION, access: config.AGENT_ACCESS }
      : undefined,
    guardHost: createHostGuard({
      listen: config.HOST,
      allowedHosts: config.AGENT_ALLOWED_HOSTS,
      cloudRun: Boolean(config.env.K_SERVICE),
      originSetting: "AGENT_ALLOWED_HOSTS",
    }),
  });

  return {
    app,
    summary: description.summary,
    status: () => ({ turns_in_flight: inflight.count }),
    async drain(deadline) {
      await inflight.idle(deadline);
      const unfinished = inflight.count;
      if (unfinished > 0) {
        shutdown.abort(shuttingDown());
        // The 503 answers and error events are written now; give them a moment to leave.
        await inflight.idle(Date.now() + 500);
      }
      return { turns_answered_503: unfinished, turns_abandoned: inflight.count };
    },
    async close() {
      // At most a second; the timer does not hold the process open.
      const closed = Promise.all([mcp?.close(), store.close?.()]);
      await Promise.race([closed, sleep(1_000, undefined, { ref: false })]);
      // Spans of the last turns go out before the instance does (Cloud Run kills at 10 s).
      await tracing.flush(500);
    },
  };
}

/** The store SESSION_STORE names; the Firestore client is loaded only when it is chosen. */
export async function createStore(config: Config, logger: Logger): Promise<SessionStore> {
  if (config.SESSION_STORE === "memory") {
    return new MemorySessionStore({
      ttlMs: config.SESSION_TTL_SECONDS * 1000,
      maxSessions: config.SESSION_MAX,
      maxMessages: config.SESSION_MAX_MESSAGES,
      maxSessionBytes: config.SESSION_MAX_BYTES,
      maxTotalBytes: config.SESSION_MEMORY_MAX_BYTES,
    });
  }
  const { createFirestoreStore } = await import("./sessions/firestore.js");
  return createFirestoreStore({
    projectId: config.GOOGLE_CLOUD_PROJECT,
    databaseId: config.FIRESTORE_DATABASE,
    collection: config.FIRESTORE_COLLECTION,
    ttlMs: config.SESSION_TTL_SECONDS * 1000,
    maxMessages: config.SESSION_MAX_MESSAGES,
    maxBytes: config.SESSION_MAX_BYTES,
    leaseMs: config.SESSION_LEASE_SECONDS * 1000,
    preferRest: config.FIRESTORE_PREFER_REST,
    logger,
  });
}

/**
 * One description of the running agent. GET / is public: which instruction (never its text), model,
 * MCP server (its origin only: a URL's userinfo, path or query can hold credentials) and store. The
 * listening line is for the operator: the same fields, then the operator-only ones.
 */
function describe(
  config: Config,
  model: Model,
  store: SessionStore,
  mcp: { authenticated: boolean } | undefined,
): { info: Record<string, unknown>; summary: Record<string, unknown> } {
  const { source, fingerprint, chars } = config.instruction;
  const info = {
    name: "agent",
    version: VERSION,
    app_name: config.APP_NAME,
    instruction: { source, fingerprint, chars },
    model: model.name,
    mcp_server_url: new URL(config.MCP_SERVER_URL).origin,
    transport: config.transport,
    mcp_auth: mcp?.authenticated ? "id-token" : "none",
    session_store: store.kind,
  };
  const emulator = config.FIRESTORE_EMULATOR_HOST
    ? `, emulator ${config.FIRESTORE_EMULATOR_HOST}`
    : "";
  const summary = {
    ...info,
    model_provider: config.model,
    ...(config.model === "offline"
      ? { note: "no Gemini credentials: using the offline model (currency questions only)" }
      : {}),
    mcp_server_url: redactUrl(config.MCP_SERVER_URL),
    mcp_transport: config.transport,
    access: config.AGENT_ACCESS,
    mcp_auth: mcp?.authenticated ? `id-token (audience ${config.audience})` : "none",
    session_store:
      config.SESSION_STORE === "memory"
        ? "memory"
        : `firestore (database ${config.FIRESTORE_DATABASE}, collection ${config.FIRESTORE_COLLECTION}${emulator})`,
  };
  return { info, summary };
}

/**
 * Headers for Google's Telemetry API: one google-auth-library client for the process (loaded on
 * first export), which caches the access token and refreshes it before it expires.
 */
function googleAuthHeaders(): () => Promise<Record<string, string>> {
  let client: Promise<{ getRequestHeaders(): Promise<Headers> }> | undefined;
  return async () => {
    client ??= import("google-auth-library").then(({ GoogleAuth }) =>
      new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }).getClient(),
    );
    return Object.fromEntries((await (await client).getRequestHeaders()).entries());
  };
}
