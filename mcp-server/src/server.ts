import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { registerGetExchangeRate } from "./tools/get-exchange-rate.js";
import { registerGetExchangeRateHistory } from "./tools/get-exchange-rate-history.js";
import { registerListCurrencies } from "./tools/list-currencies.js";
import type { ToolDeps } from "./tools/common.js";

declare const __SERVICE_VERSION__: string;
export const VERSION = typeof __SERVICE_VERSION__ === "string" ? __SERVICE_VERSION__ : "dev";

// Each Server would otherwise build its own Ajv instance (keywords, formats): most of the cost of a
// stateless request. One shared validator is safe: it only caches compiled schemas.
let validator: AjvJsonSchemaValidator | undefined;

/** A fresh MCP server with every tool: one per Streamable HTTP request, one per SSE session. */
export function createMcpServer(deps: ToolDeps): McpServer {
  validator ??= new AjvJsonSchemaValidator();
  const server = new McpServer(
    { name: "mcp-server", title: "Exchange rates (ECB via Frankfurter)", version: VERSION },
    {
      instructions: "Currency conversion and ECB reference rates. Use ISO 4217 codes (USD, EUR, JPY, …).",
      jsonSchemaValidator: validator,
    },
  );
  registerGetExchangeRate(server, deps);
  registerListCurrencies(server, deps);
  registerGetExchangeRateHistory(server, deps);
  return server;
}
