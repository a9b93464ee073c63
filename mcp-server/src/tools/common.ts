import type { CallToolResult } from "@modelcontextprotocol/server";
import type { FrankfurterClient } from "../frankfurter/client.js";
import { UpstreamError } from "../frankfurter/errors.js";
import {
  contextFromMeta,
  inSpan,
  incomingContext,
  type SpanContext,
} from "../../../common/trace.js";
import { ServiceError } from "../errors.js";
import type { Logger } from "../../../common/log.js";

export interface ToolDeps {
  frankfurter: FrankfurterClient;
  logger: Logger;
  now: () => number;
  /** TOOL_CALL_TIMEOUT_MS: one deadline per call, queue wait and retries included. */
  callTimeoutMs: number;
}

/**
 * What a tool body returns: the structured result, its text rendering, and whether the cache
 * answered.
 */
export interface ToolOutput {
  structured: Record<string, unknown>;
  text: string;
  cacheHit: boolean;
}

/** A failure in the caller's input, reported as a tool error without touching the upstream. */
export class ToolInputError extends ServiceError {
  constructor(message: string) {
    super(400, "invalid_input", message);
  }
}

/**
 * The part of the SDK's handler context a tool reads: the trace context in `_meta` or the HTTP
 * request.
 */
interface Extra {
  http?:
    | {
        req?: Request | undefined;
        /** Who called (the auth guard's Caller), when MCP_SERVER_AUTH checks callers. */
        authInfo?: { clientId: string; extra?: Record<string, unknown> | undefined } | undefined;
      }
    | undefined;
  sessionId?: string | undefined;
  mcpReq?: { id?: string | number; _meta?: Record<string, unknown> | undefined } | undefined;
}

/**
 * Runs a tool body with the shared policy: expected failures (bad input, upstream errors) become a
 * result with `isError` the model can read; every call logs one line with its duration and cache
 * use. The body gets the tool call's trace context to pass to the Frankfurter client: the span is
 * not made current (see SpanOptions.current), so the context travels as an argument.
 */
export async function runTool(
  name: string,
  args: Record<string, unknown>,
  extra: Extra,
  deps: ToolDeps,
  body: (trace: SpanContext) => Promise<ToolOutput>,
): Promise<CallToolResult> {
  // The server side of the MCP call (OpenTelemetry MCP conventions): the caller's context from the
  // request's `_meta` (MCP 2026-07-28, SEP-414), else its HTTP headers. Over SSE the tool runs
  // after the POST that carried it has been answered, so `_meta` is what ties it to the caller.
  const parent =
    contextFromMeta(extra.mcpReq?._meta) ??
    (extra.http?.req ? incomingContext(extra.http.req.headers) : undefined);
  const attributes = {
    "mcp.method.name": "tools/call",
    "gen_ai.tool.name": name,
    "gen_ai.operation.name": "execute_tool",
    "jsonrpc.request.id": extra.mcpReq?.id === undefined ? undefined : String(extra.mcpReq.id),
    "mcp.session.id": extra.sessionId,
  };
  return inSpan(
    `tools/call ${name}`,
    { kind: "server", parent, attributes, current: false },
    async (span) => {
      const caller = extra.http?.authInfo;
      const fields = {
        tool: name,
        arguments: args,
        principal: caller?.extra?.principal,
        client_id: caller?.clientId || undefined,
      };
      const result = await runToolBody(fields, deps, span.context, body);
      if (result.isError) span.setError("tool_error");
      return result;
    },
  );
}

/** `fields`: the tool, its arguments and who called, on the call's log line. */
async function runToolBody(
  fields: { tool: string; arguments: Record<string, unknown> } & Record<string, unknown>,
  deps: ToolDeps,
  trace: SpanContext,
  body: (trace: SpanContext) => Promise<ToolOutput>,
): Promise<CallToolResult> {
  const started = performance.now();
  const log = deps.logger;
  const name = fields.tool;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const message =
        `The call timed out after ${deps.callTimeoutMs} ms: the exchange-rate service is slow ` +
        "or busy right now; try again in a moment";
      const detail = `no answer within TOOL_CALL_TIMEOUT_MS (${deps.callTimeoutMs} ms)`;
      reject(new UpstreamError("timeout", message, undefined, "timeout", detail));
    }, deps.callTimeoutMs);
  });
  try {
    // The upstream work left running past the deadline is bounded by FRANKFURTER_TIMEOUT_MS.
    const out = await Promise.race([body(trace), deadline]);
    log.log(
      "INFO",
      `tool ${name}`,
      { ...fields, duration_ms: elapsed(started), cache: out.cacheHit ? "hit" : "miss" },
      trace,
    );
    return { content: [{ type: "text", text: out.text }], structuredContent: out.structured };
  } catch (err) {
    const expected = err instanceof ServiceError;
    const message = expected
      ? err.publicMessage
      : "Internal error while calling the exchange-rate service";
    log.log(
      expected ? "WARNING" : "ERROR",
      `tool ${name} failed`,
      {
        ...fields,
        duration_ms: elapsed(started),
        error: message,
        ...(err instanceof UpstreamError
          ? {
              upstream_status: err.upstreamStatus,
              kind: err.kind,
              upstream_reason: err.reason,
              upstream_detail: err.detail,
            }
          : {}),
        ...(!expected ? { detail: String(err) } : {}),
      },
      trace,
    );
    return { isError: true, content: [{ type: "text", text: message }] };
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;

/** What a failed upstream call was about, to name the currency, pair or date at fault. */
export interface UpstreamContext {
  from: string;
  to: string;
  /** "latest", a date, or a range "start..end". */
  date: string;
  /** The tool call's trace context, for the currency-list lookup that explains a 404. */
  trace?: SpanContext | undefined;
}

/**
 * Frankfurter says only "not found" (404) or a terse 422 message: turn them into messages that name
 * the currency, pair or date at fault. Over v2 a 404 is explained from the (cached) currency list.
 */
export async function explainUpstream(
  err: unknown,
  deps: ToolDeps,
  ctx: UpstreamContext,
): Promise<never> {
  if (!(err instanceof UpstreamError)) throw err;
  const { from, to, date } = ctx;
  const on =
    date === "latest"
      ? "(latest)"
      : date.includes("..")
        ? `between ${date.replace("..", " and ")}`
        : `on ${date}`;
  const pair = `${from} to ${to}`;
  const none = `No exchange rate found for ${pair}`;
  const fail = (kind: UpstreamError["kind"], message: string): never => {
    throw new UpstreamError(kind, message, err.upstreamStatus, err.reason, err.detail);
  };
  if (err.kind === "invalid") {
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
  if (err.kind !== "not_found") throw err;
  const fx = deps.frankfurter;
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
