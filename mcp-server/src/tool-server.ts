import { McpServer } from "@modelcontextprotocol/server";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/server/validators/cf-worker";
import type { ToolDeps } from "./tools/common.js";
import { TOOLS } from "./tools/index.js";

declare const __SERVICE_VERSION__: string;
export const VERSION = typeof __SERVICE_VERSION__ === "string" ? __SERVICE_VERSION__ : "dev";

// The Server's JSON Schema validator checks only elicitation answers (tool arguments go through zod).
// The SDK's Node default, Ajv, builds its keywords and formats per Server (one per stateless request);
// this one builds nothing until asked, and scripts/bundle.mjs leaves Ajv out of the bundle.
const validator = new CfWorkerJsonSchemaValidator();

/** A fresh MCP server with every tool: one per Streamable HTTP request, one per SSE session. */
export function buildToolServer(deps: ToolDeps): McpServer {
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
