import type { CallToolResult } from "@modelcontextprotocol/server";
import { UpstreamError, type FrankfurterClient } from "../frankfurter.js";
import { traceFields, type Logger } from "../log.js";

export interface ToolDeps {
  frankfurter: FrankfurterClient;
  logger: Logger;
  now: () => number;
  project?: string | undefined;
}

/** What a tool body returns: the structured result, its text rendering, and whether the cache answered. */
export interface ToolOutput {
  structured: Record<string, unknown>;
  text: string;
  cacheHit: boolean;
}

/** A failure in the caller's input, reported as a tool error without touching the upstream. */
export class ToolInputError extends Error {}

/** The part of the SDK's handler context a tool reads: the HTTP request, for its trace header. */
interface Extra {
  http?: { req?: Request | undefined } | undefined;
}

/**
 * Runs a tool body with the shared policy: expected failures (bad input, upstream errors) become a
 * result with `isError` the model can read; every call logs one line with its duration and cache use.
 */
export async function runTool(
  name: string,
  args: Record<string, unknown>,
  extra: Extra,
  deps: ToolDeps,
  body: () => Promise<ToolOutput>,
): Promise<CallToolResult> {
  const started = performance.now();
  const header = extra.http?.req?.headers.get("x-cloud-trace-context") ?? undefined;
  const log = deps.logger.child(traceFields(header, deps.project));
  const fields = { tool: name, arguments: args };
  try {
    const out = await body();
    log.log("INFO", `tool ${name}`, { ...fields, duration_ms: elapsed(started), cache: out.cacheHit ? "hit" : "miss" });
    return { content: [{ type: "text", text: out.text }], structuredContent: out.structured };
  } catch (err) {
    const expected = err instanceof ToolInputError || err instanceof UpstreamError;
    const message = expected ? (err as Error).message : "Internal error while calling the exchange-rate service";
    log.log(expected ? "WARNING" : "ERROR", `tool ${name} failed`, {
      ...fields,
      duration_ms: elapsed(started),
      error: message,
      ...(err instanceof UpstreamError ? { upstream_status: err.status, kind: err.kind } : {}),
      ...(!expected ? { detail: String(err) } : {}),
    });
    return { isError: true, content: [{ type: "text", text: message }] };
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;

/** Frankfurter says only "not found": say which of the caller's values it could be. */
export function explainNotFound(err: unknown, what: string): never {
  if (err instanceof UpstreamError && err.kind === "not_found") {
    throw new UpstreamError("not_found", `No exchange rate found for ${what}: unknown currency code, or no ECB rates for that date`, 404);
  }
  if (err instanceof UpstreamError && err.kind === "invalid") {
    throw new UpstreamError("invalid", `The exchange-rate service rejected the request for ${what}: ${err.message}`, err.status);
  }
  throw err;
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}
