import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { amount, checkDateInRange, currencyCode, rateDate, todayUtc } from "../validation.js";
import { explainNotFound, formatNumber, runTool, ToolInputError, type ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

export const name = "get_exchange_rate";

// Built once as an object schema: a raw shape would be wrapped again for every per-request server.
export const inputSchema = withCachedJsonSchema(
  z.object({
    currency_from: currencyCode.default("USD").describe("Currency to convert from (ISO 4217 code, e.g. USD)"),
    currency_to: currencyCode.default("EUR").describe("Currency to convert to (ISO 4217 code, e.g. EUR)"),
    currency_date: rateDate
      .default("latest")
      .describe('"latest" or a date as YYYY-MM-DD (from 1999-01-04); weekends and holidays use the previous working day'),
    amount: amount.default(1).describe("Amount of currency_from to convert (> 0)"),
  }),
);

export const outputSchema = withCachedJsonSchema(
  z.object({
    amount: z.number().describe("The amount converted"),
    base: z.string().describe("The currency converted from"),
    date: z.string().describe("The date of the ECB reference rate used"),
    rates: z.record(z.string(), z.number()).describe("The converted amount, keyed by target currency"),
  }),
);

export const config = {
  title: "Get exchange rate",
  description:
    "Converts an amount between two currencies with the European Central Bank reference rate " +
    "(via the Frankfurter API), for the latest working day or a past date.",
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
};

export function registerGetExchangeRate(server: McpServer, deps: ToolDeps): void {
  server.registerTool(name, config, async (args, extra) =>
    runTool(name, args, extra, deps, async () => {
      const { currency_from: from, currency_to: to, currency_date: date, amount: amt } = args;
      if (date !== "latest") {
        const problem = checkDateInRange("currency_date", date, deps.now());
        if (problem) throw new ToolInputError(problem);
      }
      if (from === to) {
        const structured = { amount: amt, base: from, date: date === "latest" ? todayUtc(deps.now()) : date, rates: { [to]: amt } };
        return { structured, text: `${formatNumber(amt)} ${from} = ${formatNumber(amt)} ${to} (same currency)`, cacheHit: true };
      }
      const { value, cacheHit } = await deps.frankfurter
        .rates(from, to, date, amt)
        .catch((err) => explainNotFound(err, `${from} to ${to} on ${date}`));
      const converted = value.rates[to];
      if (converted === undefined) throw new ToolInputError(`No ${to} rate in the ECB data for ${value.date}`);
      return {
        // Exactly the declared fields: the output schema forbids extra ones, and upstream may add some.
        structured: { amount: value.amount, base: value.base, date: value.date, rates: value.rates },
        text: `${formatNumber(value.amount)} ${value.base} = ${formatNumber(converted)} ${to} (ECB reference rate, ${value.date})`,
        cacheHit,
      };
    }),
  );
}
