import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import { exitWhenPortInUse } from "../../common/env.js";
import { createStartupLogger } from "../../common/log.js";
import { createAgent, VERSION } from "./agent.js";
import { loadConfig } from "./config.js";

const logger = createStartupLogger({ service: "agent" }, process.env, process.stdout.isTTY === true);
const config = (() => {
  try {
    return loadConfig(process.env);
  } catch (err) {
    logger.log("ERROR", (err as Error).message);
    process.exit(1);
  }
})();
const agent = await createAgent(config, { logger });
const { HOST: hostname, PORT: port } = config;
const server = serve({ fetch: agent.app.fetch, port, hostname }, (info) =>
  logger.log("INFO", `agent ${VERSION} listening on http://${hostname}:${info.port}`, { port: info.port, ...agent.summary }),
) as Server;
exitWhenPortInUse(server, { port, host: hostname }, (message, fields) => logger.log("ERROR", message, fields));

// A promise a client library rejects with nobody listening must not take down every turn in flight.
process.on("unhandledRejection", (reason) => logger.log("ERROR", "unhandled promise rejection", { detail: String(reason) }));

// Cloud Run sends SIGTERM and kills the instance 10 s later.
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.log("INFO", `${signal}: shutting down`);
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const drained = await agent.drain(Date.now() + 8_000);
  // Answers written at the deadline leave before the remaining sockets are cut.
  await Promise.race([closed, sleep(500)]);
  server.closeAllConnections();
  await agent.close();
  logger.log(drained.turns_answered_503 > 0 ? "WARNING" : "INFO", "stopped", drained);
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));
