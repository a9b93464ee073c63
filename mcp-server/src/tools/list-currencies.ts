import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { runTool, type ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

export const name = "list_currencies";

export const outputSchema = withCachedJsonSchema(
  z.object({
    currencies: z.record(z.string(), z.string()).describe("Currency names keyed by ISO 4217 code"),
    details: z
      .array(
        z.object({
          code: z.string(),
          name: z.string(),
          symbol: z.string().optional(),
          start_date: z.string().optional().describe("First day with rates"),
          end_date: z.string().optional().describe("Last day with rates"),
        }),
      )
      .describe("Each currency with its symbol and date coverage where the rates API gives them"),
    source: z.string().describe("Where the rates come from"),
  }),
);

export const config = {
  title: "List currencies",
  description:
    "Lists the currencies there are rates for: ISO 4217 code, name, symbol and the dates covered.",
  inputSchema: withCachedJsonSchema(z.object({})),
  outputSchema,
  annotations: {
    readOnlyHint: true,
    openWorldHint: true,
    idempotentHint: true,
    destructiveHint: false,
  },
};

export function registerListCurrencies(server: McpServer, deps: ToolDeps): void {
  server.registerTool(name, config, async (_args, extra) =>
    runTool(name, {}, extra, deps, async (trace) => {
      const fx = deps.frankfurter;
      const { value, cacheHit } = await fx.currencies(trace);
      const currencies = Object.fromEntries(value.map((c) => [c.code, c.name]));
      const lines = value.map(
        (c) =>
          `${c.code} ${c.name}${c.start_date ? ` (${c.start_date}..${c.end_date ?? ""})` : ""}`,
      );
      return {
        structured: { currencies, details: value, source: fx.source },
        text: `${lines.length} currencies (${fx.source}):\n${lines.join("\n")}`,
        cacheHit,
      };
    }),
  );
}
