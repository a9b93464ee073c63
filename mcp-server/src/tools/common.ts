import * as z from "zod";
import type { FrankfurterClient } from "../frankfurter/client.js";
import type { SpanContext } from "../../../common/trace-context.js";
import { ServiceError, upstreamError } from "../errors.js";
import type { Logger } from "../../../common/log.js";

export interface ToolDeps {
  frankfurter: FrankfurterClient;
  logger: Logger;
  now: () => number;
  /** TOOL_CALL_TIMEOUT_MS: one deadline per call, queue wait and retries included. */
  callTimeoutMs: number;
}

/** What a tool's `run` gets: the dependencies, and the call's trace context for the client. */
export interface ToolContext extends ToolDeps {
  trace: SpanContext;
}

/** Every tool's `source` in its structured result. */
export const sourceField = z
  .string()
  .describe(
    "Where the rates come from: ECB reference rates, " +
      "Frankfurter's blend of central banks, or the named providers",
  );

/** What a failed upstream call was about, to name the currency, pair or date at fault. */
export interface UpstreamContext {
  from: string;
  to: string;
  /** "latest", a date, or a range "start..end". */
  date: string;
}

/** Frankfurter's terse 404 and 422, reworded to name the currency, pair or date at fault. */
export async function explainUpstream(
  err: unknown,
  ctx: ToolContext,
  about: UpstreamContext,
): Promise<never> {
  if (!(err instanceof ServiceError)) throw err;
  if (err.code === "invalid")
    throw upstreamError("invalid", invalidMessage(err.message, about), err);
  if (err.code !== "not_found") throw err;
  throw upstreamError("not_found", await notFoundMessage(ctx, about), err);
}

/** The day or range asked about, as a message names it. */
function when(date: string): string {
  if (date === "latest") return "(latest)";
  return date.includes("..") ? `between ${date.replace("..", " and ")}` : `on ${date}`;
}

function invalidMessage(said: string, { from, to, date }: UpstreamContext): string {
  const codes = /invalid currency: ?([A-Z,]+)/i.exec(said)?.[1]?.split(",");
  if (codes) {
    const unknown = codes.length > 1 ? "are unknown currency codes" : "is an unknown currency code";
    const hint = "name a currency by its ISO 4217 code, e.g. USD, AED or NGN";
    return `${codes.join(" and ")} ${unknown}: ${hint}`;
  }
  const rejected = "The exchange-rate service rejected";
  if (/invalid date/i.test(said)) return `${rejected} the date ${date} for ${from} to ${to}`;
  return `${rejected} the request for ${from} to ${to} ${when(date)}: ${said}`;
}

/** Over v2, a 404 explained from the (cached) currency list: a code unknown, or not yet quoted. */
async function notFoundMessage(ctx: ToolContext, { from, to, date }: UpstreamContext) {
  const fx = ctx.frankfurter;
  const none = `No exchange rate found for ${from} to ${to}`;
  if (fx.version === "v1") {
    return `${none} ${when(date)}: unknown currency code, or no ECB rates for that date`;
  }
  const scope = fx.providers.length ? ` from the providers ${fx.providers.join(", ")}` : "";
  const known = await fx.currencies(ctx.trace).then(
    (r) => new Map(r.value.map((c) => [c.code, c])),
    () => undefined,
  );
  const missing = [from, to].filter((c) => known && !known.has(c));
  if (missing.length) {
    const have = missing.length > 1 ? "have" : "has";
    const why = "(an unknown currency or one no source publishes)";
    return `${none}: ${missing.join(" and ")} ${have} no rates${scope} ${why}`;
  }
  const first = date === "latest" ? undefined : date.slice(0, 10);
  const late = [from, to]
    .map((c) => known?.get(c))
    .find((c) => first !== undefined && c?.start_date !== undefined && first < c.start_date);
  if (late) return `${none} ${when(date)}: ${late.code} rates${scope} start on ${late.start_date}`;
  return `${none} ${when(date)}${scope}`;
}

/** Up to 6 decimals; a value below 0.001 keeps 3 significant digits instead (never "0"). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) < 1e-3 ? String(Number(n.toPrecision(3))) : String(Math.round(n * 1e6) / 1e6);
}
