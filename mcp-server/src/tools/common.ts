import type { FrankfurterClient } from "../frankfurter/client.js";
import type { SpanContext } from "../../../common/trace.js";
import { ServiceError, type UpstreamKind, upstreamError } from "../errors.js";
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
  if (!(err instanceof ServiceError) || err.status < 500) throw err;
  const { from, to, date } = about;
  const on =
    date === "latest"
      ? "(latest)"
      : date.includes("..")
        ? `between ${date.replace("..", " and ")}`
        : `on ${date}`;
  const pair = `${from} to ${to}`;
  const none = `No exchange rate found for ${pair}`;
  const fail = (kind: UpstreamKind, message: string): never => {
    throw upstreamError(kind, message, err);
  };
  if (err.code === "invalid") {
    const currencies = /invalid currency: ?([A-Z,]+)/i.exec(err.message)?.[1];
    if (currencies) {
      const codes = currencies.split(",");
      const unknown =
        codes.length > 1 ? "are unknown currency codes" : "is an unknown currency code";
      fail(
        "invalid",
        `${codes.join(" and ")} ${unknown}: ` +
          "name a currency by its ISO 4217 code, e.g. USD, AED or NGN",
      );
    }
    if (/invalid date/i.test(err.message))
      fail("invalid", `The exchange-rate service rejected the date ${date} for ${pair}`);
    fail(
      "invalid",
      `The exchange-rate service rejected the request for ${pair} ${on}: ${err.message}`,
    );
  }
  if (err.code !== "not_found") throw err;
  const fx = ctx.frankfurter;
  if (fx.version === "v1") {
    fail("not_found", `${none} ${on}: unknown currency code, or no ECB rates for that date`);
  }
  const scope = fx.providers.length ? ` from the providers ${fx.providers.join(", ")}` : "";
  const known = await fx.currencies(ctx.trace).then(
    (r) => r.value,
    () => undefined,
  );
  if (known) {
    const byCode = new Map(known.map((c) => [c.code, c]));
    const missing = [from, to].filter((c) => !byCode.has(c));
    if (missing.length) {
      const have = missing.length > 1 ? "have" : "has";
      fail(
        "not_found",
        `${none}: ${missing.join(" and ")} ${have} no rates${scope} ` +
          "(an unknown currency or one no source publishes)",
      );
    }
    const first = date === "latest" ? undefined : date.slice(0, 10);
    const late = [from, to]
      .map((c) => byCode.get(c)!)
      .find((c) => first !== undefined && c.start_date !== undefined && first < c.start_date);
    if (late) {
      fail("not_found", `${none} ${on}: ${late.code} rates${scope} start on ${late.start_date}`);
    }
  }
  fail("not_found", `${none} ${on}${scope}`);
  throw err; // unreachable: fail() throws
}

/** Up to 6 decimals; a value below 0.001 keeps 3 significant digits instead (never "0"). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) < 1e-3 ? String(Number(n.toPrecision(3))) : String(Math.round(n * 1e6) / 1e6);
}
