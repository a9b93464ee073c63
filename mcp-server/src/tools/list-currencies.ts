import * as z from "zod";
import { sourceField } from "./common.js";
import { defineTool } from "./define.js";

export const listCurrencies = defineTool({
  name: "list_currencies",
  title: "List currencies",
  description:
    "Lists the currencies there are rates for: ISO 4217 code, name, symbol and the dates covered.",
  output: z.object({
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
    source: sourceField,
  }),
  async run(_args, { frankfurter: fx, trace }) {
    const { value, cacheHit } = await fx.currencies(trace);
    const lines = value.map(
      (c) => `${c.code} ${c.name}${c.start_date ? ` (${c.start_date}..${c.end_date ?? ""})` : ""}`,
    );
    return {
      structured: {
        currencies: Object.fromEntries(value.map((c) => [c.code, c.name])),
        details: value,
        source: fx.source,
      },
      text: `${lines.length} currencies (${fx.source}):\n${lines.join("\n")}`,
      cacheHit,
    };
  },
});
