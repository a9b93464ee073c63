import * as z from "zod";
import { checkDateInRange, currencyCode, daysBetween, isoDate, todayUtc } from "../validation.js";
import type { FrankfurterClient, HistoryGroup } from "../frankfurter/client.js";
import { inputError, upstreamError } from "../errors.js";
import { explainUpstream, formatNumber, sourceField } from "./common.js";
import { defineTool } from "./define.js";

/** At most 366 points per answer, for a model's context; v2 groups longer ranges, v1 cannot. */
export const MAX_DAYS = 366;
export const MAX_WEEKS_DAYS = 366 * 7;
export const MAX_MONTHS_DAYS = 30 * 366;

/** The last day and the grouping for a range, or an input error saying what to change. */
function checkRange(
  start: string,
  end: string | undefined,
  fx: FrankfurterClient,
  now: number,
): { last: string; group: HistoryGroup } {
  const problem =
    checkDateInRange("start_date", start, now, fx.firstDate) ??
    (end ? checkDateInRange("end_date", end, now, fx.firstDate) : undefined);
  if (problem) throw inputError(problem);
  const last = end ?? todayUtc(now);
  if (last < start) throw inputError(`end_date ${last} is before start_date ${start}`);
  const days = daysBetween(start, last);
  if (days <= MAX_DAYS) return { last, group: "day" };
  const range = `The range ${start}..${last} is longer than`;
  if (fx.version === "v1") {
    throw inputError(`${range} ${MAX_DAYS} days: split it into several calls`);
  }
  if (days > MAX_MONTHS_DAYS) {
    throw inputError(`${range} 30 years: split it into several calls`);
  }
  return { last, group: days > MAX_WEEKS_DAYS ? "month" : "week" };
}

export const getExchangeRateHistory = defineTool({
  name: "get_exchange_rate_history",
  title: "Get exchange rate history",
  description:
    "Rates between two currencies over a date range: daily up to a year; " +
    "longer ranges are grouped by week (up to 7 years) or month (up to 30 years) " +
    `where the rates API allows it, else split them into calls of ${MAX_DAYS} days.`,
  // The API version's first day is in the text.
  input: (first: string) =>
    z.object({
      currency_from: currencyCode.describe("Currency to convert from (ISO 4217 code, e.g. USD)"),
      currency_to: currencyCode.describe("Currency to convert to (ISO 4217 code, e.g. EUR)"),
      start_date: isoDate.describe(`First day, YYYY-MM-DD (from ${first})`),
      end_date: isoDate.optional().describe("Last day, YYYY-MM-DD (default: today)"),
    }),
  output: z.object({
    amount: z.number(),
    base: z.string(),
    start_date: z.string(),
    end_date: z.string(),
    rates: z
      .record(z.string(), z.record(z.string(), z.number()))
      .describe("Rates keyed by date, then by currency"),
    group: z
      .enum(["day", "week", "month"])
      .describe("One point per day, or per week or month (averaged) for long ranges"),
    source: sourceField,
  }),
  async run(args, ctx) {
    const { currency_from: from, currency_to: to, start_date: start, end_date: end } = args;
    const fx = ctx.frankfurter;
    const now = ctx.now();
    const { last, group } = checkRange(start, end, fx, now);
    if (from === to)
      throw inputError(`currency_from and currency_to are both ${from}: the rate is always 1`);
    const { value, cacheHit } = await fx
      .history(from, to, start, end, group, ctx.trace)
      .catch((err) => explainUpstream(err, ctx, { from, to, date: `${start}..${last}` }));
    if (value.points.length === 0) {
      // v2 answers an empty list where v1 answered 404.
      await explainUpstream(upstreamError("not_found", "not found", { upstreamStatus: 404 }), ctx, {
        from,
        to,
        date: `${start}..${last}`,
      });
    }
    const first = value.points[0]![0];
    const final = value.points[value.points.length - 1]![0];
    const rates = Object.fromEntries(value.points.map(([d, r]) => [d, { [to]: r }]));
    const unit =
      group === "day" ? (fx.version === "v1" ? "ECB working days" : "days") : `${group}s, averaged`;
    const text =
      `${from} to ${to}, ${first}..${final} (${value.points.length} ${unit}; ${fx.source}):\n` +
      value.points.map(([d, r]) => `${d} ${formatNumber(r)}`).join("\n");
    return {
      structured: {
        amount: 1,
        base: from,
        start_date: first,
        end_date: final,
        rates,
        group,
        source: fx.source,
      },
      text,
      cacheHit,
    };
  },
});
