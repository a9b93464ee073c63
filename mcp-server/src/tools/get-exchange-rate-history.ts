import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { checkDateInRange, currencyCode, daysBetween, isoDate } from "../validation.js";
import { explainNotFound, formatNumber, runTool, ToolInputError, type ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

export const name = "get_exchange_rate_history";

/** At most about a year of daily points per call keeps answers small enough for a model's context. */
export const MAX_DAYS = 366;

// Built once as an object schema: a raw shape would be wrapped again for every per-request server.
export const inputSchema = withCachedJsonSchema(
  z.object({
    currency_from: currencyCode.describe("Currency to convert from (ISO 4217 code, e.g. USD)"),
    currency_to: currencyCode.describe("Currency to convert to (ISO 4217 code, e.g. EUR)"),
    start_date: isoDate.describe("First day, YYYY-MM-DD (from 1999-01-04)"),
    end_date: isoDate.optional().describe("Last day, YYYY-MM-DD (default: today)"),
  }),
);

export const outputSchema = withCachedJsonSchema(
  z.object({
    amount: z.number(),
    base: z.string(),
    start_date: z.string(),
    end_date: z.string(),
    rates: z.record(z.string(), z.record(z.string(), z.number())).describe("Rates keyed by date, then by currency"),
  }),
);

export const config = {
  title: "Get exchange rate history",
  description:
    `Daily ECB reference rates between two currencies over a date range (working days only), ` +
    `at most ${MAX_DAYS} days per call: split longer periods into several calls.`,
  inputSchema,
  outputSchema,
  annotations: { readOnlyHint: true, openWorldHint: true, idempotentHint: true, destructiveHint: false },
};

export function registerGetExchangeRateHistory(server: McpServer, deps: ToolDeps): void {
  server.registerTool(name, config, async (args, extra) =>
    runTool(name, args, extra, deps, async () => {
      const { currency_from: from, currency_to: to, start_date: start, end_date: end } = args;
      const now = deps.now();
      const problem =
        checkDateInRange("start_date", start, now) ?? (end ? checkDateInRange("end_date", end, now) : undefined);
      if (problem) throw new ToolInputError(problem);
      const last = end ?? new Date(now).toISOString().slice(0, 10);
      if (last < start) throw new ToolInputError(`end_date ${last} is before start_date ${start}`);
      if (daysBetween(start, last) > MAX_DAYS) {
        throw new ToolInputError(`The range ${start}..${last} is longer than ${MAX_DAYS} days: split it into several calls`);
      }
      if (from === to) throw new ToolInputError(`currency_from and currency_to are both ${from}: the rate is always 1`);
      const { value, cacheHit } = await deps.frankfurter
        .history(from, to, start, end)
        .catch((err) => explainNotFound(err, `${from} to ${to} from ${start}`));
      const points = Object.entries(value.rates).map(([d, r]) => `${d} ${formatNumber(r[to] ?? Number.NaN)}`);
      const text = `${value.base} to ${to}, ${value.start_date}..${value.end_date} (${points.length} ECB working days):\n${points.join("\n")}`;
      // Exactly the declared fields: the output schema forbids extra ones, and upstream may add some.
      const structured = { amount: value.amount, base: value.base, start_date: value.start_date, end_date: value.end_date, rates: value.rates };
      return { structured, text, cacheHit };
    }),
  );
}
