import { createStartupLogger } from "../../common/log.js";
import { configOrExit, serveUntilSignal } from "../../common/serve.js";
import { createAgent, VERSION } from "./agent.js";
import { loadConfig } from "./config.js";

const logger = createStartupLogger(
  { service: "agent" },
  process.env,
  process.stdout.isTTY === true,
);
const config = configOrExit(() => loadConfig(process.env), logger);
const agent = await createAgent(config, { logger });
serveUntilSignal(agent, {
  name: `agent ${VERSION}`,
  port: config.PORT,
  hostname: config.HOST,
  logger,
  fields: agent.summary,
});
