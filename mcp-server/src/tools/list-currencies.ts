import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { runTool, type ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

export const name = "list_currencies";

export const outputSchema = withCachedJsonSchema(
  z.object({
    currencies: z.record(z.string(), z.string()).describe("Currency names keyed by ISO 4217 code"),
  }),
);

export const config = {
  title: "List currencies",
  description: "Lists the currencies that have ECB reference rates (ISO 4217 code and name).",
  inputSchema: withCachedJsonSchema(z.object({})),
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
};

export function registerListCurrencies(server: McpServer, deps: ToolDeps): void {
  server.registerTool(name, config, async (_args, extra) =>
    runTool(name, {}, extra, deps, async () => {
      const { value, cacheHit } = await deps.frankfurter.currencies();
      const lines = Object.entries(value).map(([code, label]) => `${code} ${label}`);
      return { structured: { currencies: value }, text: `${lines.length} currencies:\n${lines.join("\n")}`, cacheHit };
    }),
  );
}
