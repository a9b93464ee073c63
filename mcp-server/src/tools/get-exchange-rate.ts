import * as z from "zod";
import { amount, checkDateInRange, currencyCode, rateDate, todayUtc } from "../validation.js";
import { inputError } from "../errors.js";
import { explainUpstream, formatNumber, sourceField } from "./common.js";
import { defineTool } from "./define.js";

export const getExchangeRate = defineTool({
  name: "get_exchange_rate",
  title: "Get exchange rate",
  description:
    "Converts an amount between two currencies (200+ ISO 4217 codes, e.g. AED, ARS, NGN) " +
    "with central-bank rates from the Frankfurter API, for the latest day or a past date; " +
    "says which date and source the rate is from.",
  // The API version's first day is in the text.
  input: (first: string) =>
    z.object({
      currency_from: currencyCode
        .default("USD")
        .describe("Currency to convert from (ISO 4217 code, e.g. USD)"),
      currency_to: currencyCode
        .default("EUR")
        .describe("Currency to convert to (ISO 4217 code, e.g. EUR)"),
      currency_date: rateDate
        .default("latest")
        .describe(
          `"latest" or a date as YYYY-MM-DD (from ${first}); ` +
            "weekends and holidays use the previous working day",
        ),
      amount: amount.default(1).describe("Amount of currency_from to convert (> 0)"),
    }),
  output: z.object({
    amount: z.number().describe("The amount converted"),
    base: z.string().describe("The currency converted from"),
    date: z
      .string()
      .describe("The date of the rate used (weekends and holidays carry the last published rate)"),
    rates: z
      .record(z.string(), z.number())
      .describe("The converted amount, keyed by target currency"),
    quote: z.string().describe("The currency converted to"),
    rate: z.number().describe("The rate used: 1 base = rate quote"),
    source: sourceField,
  }),
  async run(args, ctx) {
    const { currency_from: from, currency_to: to, currency_date: date, amount: amt } = args;
    const fx = ctx.frankfurter;
    if (date !== "latest") {
      const problem = checkDateInRange("currency_date", date, ctx.now(), fx.firstDate);
      if (problem) throw inputError(problem);
    }
    if (from === to) {
      const day = date === "latest" ? todayUtc(ctx.now()) : date;
      const structured = {
        amount: amt,
        base: from,
        date: day,
        rates: { [to]: amt },
        quote: to,
        rate: 1,
        source: "same currency",
      };
      return {
        structured,
        text: `${formatNumber(amt)} ${from} = ${formatNumber(amt)} ${to} (same currency)`,
        cacheHit: true,
      };
    }
    const { value, cacheHit } = await fx
      .convert(from, to, date, amt, ctx.trace)
      .catch((err) => explainUpstream(err, ctx, { from, to, date }));
    const structured = {
      amount: value.amount,
      base: value.base,
      date: value.date,
      rates: { [to]: value.converted },
      quote: to,
      rate: value.rate,
      source: fx.source,
    };
    return {
      structured,
      text:
        `${formatNumber(value.amount)} ${value.base} = ` +
        `${formatNumber(value.converted)} ${to} on ${value.date} ` +
        `(1 ${value.base} = ${formatNumber(value.rate)} ${to}; ${fx.source})`,
      cacheHit,
    };
  },
});
