// The agent's MCP client (McpConnection, as the agent uses it) driven by the MCP conformance suite's
// client scenarios: `conformance client --command "node --import tsx <this file>"` appends the URL of
// the suite's test server and names the scenario in MCP_CONFORMANCE_SCENARIO.
import { createLogger } from "../../../common/log.js";
import { McpConnection } from "../../src/mcp/index.js";

const url = process.argv[process.argv.length - 1]!;
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
const logger = createLogger({ scenario }, (line) => process.stderr.write(`${line}\n`));
const mcp = new McpConnection({
  url,
  transport: /\/sse\/?$/.test(new URL(url).pathname) ? "sse" : "streamable-http",
  timeoutMs: 15_000,
  logger,
  version: "conformance",
});
try {
  const tools = await mcp.listTools();
  // tools_call and sse-retry serve one tool each; the agent calls what the model picks, here the first.
  const tool = tools.find((t) => t.name === "add_numbers") ?? tools[0];
  if (tool) {
    const args = tool.name === "add_numbers" ? { a: 2, b: 3 } : {};
    const out = await mcp.callTool(tool.name, args);
    logger.log("INFO", "tool result", {
      tool: tool.name,
      is_error: out.isError,
      text: out.text.slice(0, 200),
      ...mcp.status,
    });
  } else {
    logger.log("INFO", "no tools listed", { ...mcp.status });
  }
} finally {
  await mcp.close();
}
