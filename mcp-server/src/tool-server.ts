import { McpServer } from "@modelcontextprotocol/server";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import type { ToolDeps } from "./tools/common.js";
import { TOOLS } from "./tools/index.js";

declare const __SERVICE_VERSION__: string;
export const VERSION = typeof __SERVICE_VERSION__ === "string" ? __SERVICE_VERSION__ : "dev";

// Each Server would otherwise build its own Ajv instance (keywords, formats): most of the cost of a
// stateless request. One shared validator is safe: it only caches compiled schemas.
let validator: AjvJsonSchemaValidator | undefined;

/** A fresh MCP server with every tool: one per Streamable HTTP request, one per SSE session. */
export function buildToolServer(deps: ToolDeps): McpServer {
  validator ??= new AjvJsonSchemaValidator();
  const server = new McpServer(
    { name: "mcp-server", title: "Exchange rates (Frankfurter)", version: VERSION },
    {
      // The source depends on FRANKFURTER_URL and FRANKFURTER_PROVIDERS: the v2 blend of central
      // banks, named providers, or the ECB's reference rates (v1).
      instructions:
        "Currency conversion, rate histories and the list of currencies; " +
        `rates: ${deps.frankfurter.source}. Use ISO 4217 codes (USD, EUR, JPY, …); ` +
        "list_currencies says which currencies have rates.",
      jsonSchemaValidator: validator,
      // The tool set never changes at run time, so the server never sends list_changed: say so
      // (McpServer would otherwise advertise listChanged: true).
      capabilities: { tools: { listChanged: false } },
    },
  );
  for (const tool of TOOLS) tool.register(server, deps);
  return server;
}
