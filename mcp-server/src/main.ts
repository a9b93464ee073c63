import { createStartupLogger } from "../../common/log.js";
import { configOrExit, serveUntilSignal } from "../../common/serve.js";
import { createMcpService } from "./app.js";
import { loadConfig } from "./config.js";
import { VERSION } from "./tool-server.js";

const logger = createStartupLogger({ service: "mcp-server" }, process.env, process.stdout.isTTY);
const config = configOrExit(() => loadConfig(process.env), logger);
const service = await createMcpService(config, { logger });
serveUntilSignal(service, {
  name: `mcp-server ${VERSION}`,
  port: config.PORT,
  hostname: config.HOST,
  logger,
  fields: {
    endpoints: ["/mcp", "/sse", "/health"],
    auth: config.MCP_SERVER_AUTH,
    ...(config.MCP_SERVER_AUTH.includes("oauth")
      ? {
          oauth_issuer: config.OAUTH_ISSUER,
          resource: config.MCP_RESOURCE_URL,
          audience: config.OAUTH_AUDIENCE,
        }
      : {}),
    frankfurter_url: config.FRANKFURTER_URL,
  },
});
