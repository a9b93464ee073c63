import { serve } from "@hono/node-server";
import { exitWhenPortInUse } from "../../common/env.js";
import { createApp } from "./app.js";
import { ChatService } from "./chat.js";
import { loadConfig, type Config } from "./config.js";
import { createIdTokenFetch } from "./id-token.js";
import { createIdentify } from "./identity.js";
import { createStartupLogger } from "./log.js";
import { McpConnection } from "./mcp-client.js";
import { OfflineModel } from "./models/offline.js";
import { loadPageAssets } from "./page/load.js";
import type { Model } from "./models/types.js";
import { redactUrl } from "./redact.js";
import { MemorySessionStore, type SessionStore } from "./sessions.js";
import { configureTraceProject } from "../../common/trace.js";
import { startTracing } from "../../common/tracing.js";

declare const __SERVICE_VERSION__: string;
const VERSION = typeof __SERVICE_VERSION__ === "string" ? __SERVICE_VERSION__ : "dev";

const logger = createStartupLogger({ service: "agent" }, process.env, process.stdout.isTTY === true);

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  logger.log("ERROR", (err as Error).message);
  process.exit(1);
}

configureTraceProject(process.env);
let traceAuth: Promise<{ getRequestHeaders(): Promise<Headers | Record<string, string>> }> | undefined;
// The OpenTelemetry SDK is imported only when OTEL_* settings ask for export; on Google's Telemetry
// API the exporter authenticates with Application Default Credentials.
const tracing = await startTracing(process.env, logger, {
  serviceName: "agent",
  version: VERSION,
  googleAuthHeaders: async () => {
    // One client for the process: it caches the token and refreshes it before it expires.
    traceAuth ??= import("google-auth-library").then(({ GoogleAuth }) => new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }).getClient());
    const headers = await (await traceAuth).getRequestHeaders();
    return Object.fromEntries(headers instanceof Headers ? headers.entries() : Object.entries(headers as Record<string, string>));
  },
});

// Loaded only when used: @google/genai and its auth stack cost start-up time and memory the offline
// model does not need (esbuild keeps a dynamic import lazy inside the single bundle).
const model: Model =
  config.model === "gemini"
    ? new (await import("./models/gemini.js")).GeminiModel({
        model: config.GOOGLE_MODEL,
        apiKey: config.vertex ? undefined : config.GOOGLE_API_KEY,
        vertexai: config.vertex ? { project: config.GOOGLE_CLOUD_PROJECT ?? "", location: config.GOOGLE_CLOUD_LOCATION } : undefined,
        baseUrl: config.vertex ? config.GOOGLE_VERTEX_BASE_URL : config.GOOGLE_GEMINI_BASE_URL,
        thinkingLevel: config.GOOGLE_THINKING_LEVEL === "default" ? undefined : (config.GOOGLE_THINKING_LEVEL.toUpperCase() as "LOW"),
        sampling: { temperature: config.GOOGLE_TEMPERATURE, topP: config.GOOGLE_TOP_P, topK: config.GOOGLE_TOP_K },
      })
    : new OfflineModel();

const mcp = new McpConnection({
  url: config.MCP_SERVER_URL,
  transport: config.transport,
  fetch: config.useIdToken ? createIdTokenFetch(config.audience) : undefined,
  timeoutMs: config.MCP_TOOL_TIMEOUT_MS,
  logger,
  version: VERSION,
});

// The Firestore client (gRPC/REST stack, protos) is loaded only when selected, like Gemini's.
let store: SessionStore;
if (config.SESSION_STORE === "firestore") {
  store = await (await import("./sessions-firestore.js")).createFirestoreStore({
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
} else {
  const memory = new MemorySessionStore({
    ttlMs: config.SESSION_TTL_SECONDS * 1000,
    maxSessions: config.SESSION_MAX,
    maxMessages: config.SESSION_MAX_MESSAGES,
    maxSessionBytes: config.SESSION_MAX_BYTES,
    maxTotalBytes: config.SESSION_MEMORY_MAX_BYTES,
  });
  setInterval(() => memory.sweep(), 60_000).unref();
  store = memory;
}

const inflight = { count: 0 };
const drainDeadline = new AbortController();
const app = createApp({
  identify: createIdentify({ access: config.AGENT_ACCESS, iapAudience: config.IAP_AUDIENCE, iapKeysUrl: config.IAP_KEYS_URL }),
  shutdown: drainDeadline.signal,
  chat: new ChatService({ model, tools: mcp, store, logger, app: config.APP_NAME }),
  tools: mcp,
  model,
  mcp,
  logger,
  inflight,
  page: await loadPageAssets(),
  store,
  info: {
    name: "agent",
    version: VERSION,
    model: model.name,
    mcp_server_url: config.MCP_SERVER_URL,
    transport: config.transport,
    mcp_auth: config.useIdToken ? "id-token" : "none",
    session_store: store.kind,
  },
});

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.log("INFO", `agent ${VERSION} listening on http://${config.HOST}:${info.port}`, {
    port: info.port,
    model: model.name,
    model_provider: config.model,
    ...(config.model === "offline" ? { note: "no Gemini credentials: using the offline model (currency questions only)" } : {}),
    mcp_server_url: redactUrl(config.MCP_SERVER_URL),
    mcp_transport: config.transport,
    access: config.AGENT_ACCESS,
    mcp_auth: config.useIdToken ? `id-token (audience ${config.audience})` : "none",
    session_store:
      config.SESSION_STORE === "firestore"
        ? `firestore (database ${config.FIRESTORE_DATABASE}, collection ${config.FIRESTORE_COLLECTION}${config.FIRESTORE_EMULATOR_HOST ? `, emulator ${config.FIRESTORE_EMULATOR_HOST}` : ""})`
        : "memory",
  });
});
exitWhenPortInUse(server, { port: config.PORT, host: config.HOST }, (message, fields) => logger.log("ERROR", message, fields));

// Cloud Run sends SIGTERM and kills the instance 10 s later: stop accepting, let turns in flight
// finish (bounded), then answer the ones still running with 503 (streams get an `error` event)
// rather than dropping them silently, close the MCP connection, exit.
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.log("INFO", `${signal}: shutting down`, { turns_in_flight: inflight.count });
  const deadline = Date.now() + 8_000;
  server.close();
  (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  while (inflight.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const unfinished = inflight.count;
  if (unfinished > 0) {
    drainDeadline.abort();
    // The 503 answers and error events are written now; give them a moment to leave.
    const flushBy = Date.now() + 500;
    while (inflight.count > 0 && Date.now() < flushBy) await new Promise((r) => setTimeout(r, 20));
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  }
  await Promise.race([Promise.all([mcp.close(), store.close?.()]), new Promise((r) => setTimeout(r, 1_000))]);
  // Spans of the last turns go out before the instance does (bounded: Cloud Run kills at 10 s).
  await tracing.flush(500);
  logger.log(unfinished > 0 ? "WARNING" : "INFO", "stopped", { turns_answered_503: unfinished, turns_abandoned: inflight.count });
  process.exit(0);
}
// A promise rejected inside a client library with nobody listening (seen in @google-cloud/firestore's
// retries) must not take down the process and every turn in flight with it.
process.on("unhandledRejection", (reason) => {
  logger.log("ERROR", "unhandled promise rejection", { detail: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason) });
});
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
