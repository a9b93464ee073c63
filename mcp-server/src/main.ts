import { serve } from "@hono/node-server";
import { exitWhenPortInUse } from "../../common/env.js";
import { createMcpServer } from "./app.js";
import { loadConfig, type Config } from "./config.js";
import { createStartupLogger } from "./log.js";
import { VERSION } from "./tool-server.js";

const logger = createStartupLogger({ service: "mcp-server" }, process.env, process.stdout.isTTY);
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  logger.log("ERROR", (err as Error).message);
  process.exit(1);
}
const service = await createMcpServer(config, { logger });
const { PORT: port, HOST: hostname } = config;
const server = serve({ fetch: service.app.fetch, port, hostname }, (info) => {
  logger.log("INFO", `mcp-server ${VERSION} listening on http://${hostname}:${info.port}`, {
    port: info.port,
    endpoints: ["/mcp", "/sse", "/health"],
    auth: config.MCP_SERVER_AUTH,
    frankfurter_url: config.FRANKFURTER_URL,
  });
});
exitWhenPortInUse(server, { port, host: hostname }, (m, f) => logger.log("ERROR", m, f));
// Cloud Run sends SIGTERM and kills the instance 10 s later: stop accepting, end SSE streams so
// that clients reconnect elsewhere, let requests in flight finish, and leave before the deadline.
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.log("INFO", `${signal}: shutting down`, { open_sse_sessions: service.openSseSessions });
  server.close();
  await service.drain(Date.now() + 7_000);
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await service.close();
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => void shutdown(signal));
