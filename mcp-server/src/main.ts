import { serve } from "@hono/node-server";
import { exitWhenPortInUse } from "../../common/env.js";
import { createApp } from "./app.js";
import { createIdTokenVerifier } from "./auth.js";
import { configWarnings, loadConfig, type Config } from "./config.js";
import { FrankfurterClient, frankfurterOptions } from "./frankfurter.js";
import { createStartupLogger } from "./log.js";
import { configureTraceProject } from "../../common/trace.js";
import { startTracing } from "../../common/tracing.js";
import { VERSION } from "./server.js";
import type { WebSseServerTransport } from "./sse.js";

const logger = createStartupLogger({ service: "mcp-server" }, process.env, process.stdout.isTTY === true);

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  logger.log("ERROR", (err as Error).message);
  process.exit(1);
}
for (const warning of configWarnings(process.env)) logger.log("WARNING", warning);

configureTraceProject(process.env);
// The OpenTelemetry SDK is imported only when OTEL_* settings ask for export. On Google's Telemetry
// API the exporter uses the metadata server's token (Cloud Run), not google-auth-library.
const tracing = await startTracing(process.env, logger, { serviceName: "mcp-server", version: VERSION });

const sessions = new Map<string, WebSseServerTransport>();
const app = createApp({
  frankfurter: new FrankfurterClient(frankfurterOptions(config)),
  logger,
  sessions,
  allowedHosts: config.MCP_ALLOWED_HOSTS,
  sseKeepAliveMs: config.SSE_KEEPALIVE_MS,
  sseMaxSessions: config.SSE_MAX_SESSIONS,
  sseMaxQueuedBytes: config.SSE_MAX_QUEUED_BYTES,
  verifyAuth:
    config.MCP_SERVER_AUTH === "google-id-token"
      ? createIdTokenVerifier({
          audience: config.MCP_AUTH_AUDIENCE ?? "",
          allowedInvokers: config.MCP_ALLOWED_INVOKERS,
          certsUrl: config.MCP_AUTH_CERTS_URL,
        })
      : undefined,
});

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.log("INFO", `mcp-server ${VERSION} listening on http://${config.HOST}:${info.port}`, {
    port: info.port,
    endpoints: ["/mcp", "/sse", "/health"],
    auth: config.MCP_SERVER_AUTH,
    frankfurter_url: config.FRANKFURTER_URL,
  });
});
exitWhenPortInUse(server, { port: config.PORT, host: config.HOST }, (message, fields) => logger.log("ERROR", message, fields));

// Cloud Run sends SIGTERM and kills the instance 10 s later: stop accepting, end SSE streams so
// clients reconnect elsewhere, let in-flight requests finish, and leave before the deadline.
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.log("INFO", `${signal}: shutting down`, { open_sse_sessions: sessions.size });
  setTimeout(() => process.exit(0), 8_000).unref();
  // Spans of the last requests go out before the instance does (bounded: Cloud Run kills at 10 s).
  server.close(() => void tracing.flush(2_000).finally(() => process.exit(0)));
  // SSE clients reconnect at once over their kept-alive sockets: keep ending streams and idle
  // connections until none is left, while requests in flight finish.
  const sweep = (): void => {
    for (const transport of sessions.values()) void transport.close();
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  sweep();
  setInterval(sweep, 100).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
