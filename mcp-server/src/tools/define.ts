import type { CallToolResult, McpServer, ToolAnnotations } from "@modelcontextprotocol/server";
import * as z from "zod";
import {
  contextFromMeta,
  inSpan,
  incomingContext,
  type SpanContext,
} from "../../../common/trace.js";
import { ServiceError } from "../errors.js";
import { UpstreamError } from "../frankfurter/errors.js";
import type { ToolContext, ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

/**
 * What every tool here is unless its definition says otherwise: it reads from an outside service
 * (the rates API), changes nothing, and answers the same call the same way.
 */
export const DEFAULT_ANNOTATIONS: Readonly<ToolAnnotations> = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

type ObjectSchema = z.ZodObject;

/** What a tool's `run` returns: the structured result, the same in text, whether the cache answered. */
export interface ToolOutput<Structured> {
  structured: Structured;
  text: string;
  cacheHit?: boolean;
}

/** A tool as its module declares it; `defineTool` adds what every tool needs. */
export interface ToolDefinition<In extends ObjectSchema, Out extends ObjectSchema> {
  name: string;
  title: string;
  description: string;
  /**
   * The arguments (none when left out), or a function of the rates API's first day for a tool
   * whose descriptions name it: then built once per API version.
   */
  input?: In | ((firstDate: string) => In);
  output: Out;
  /** Merged over DEFAULT_ANNOTATIONS. */
  annotations?: ToolAnnotations;
  /**
   * The tool's work. A ServiceError it throws (ToolInputError, an UpstreamError) becomes a result
   * with `isError` and the error's public message; anything else an `isError` result that says
   * only "internal error", with the details in the log.
   */
  run(args: z.output<In>, ctx: ToolContext): Promise<ToolOutput<z.output<Out>>>;
}

/** A tool ready for the registry (tools/index.ts). */
export interface Tool {
  readonly name: string;
  /** The input schema for the configured API version (keyed by its first day). */
  inputSchema(firstDate: string): ObjectSchema;
  readonly outputSchema: ObjectSchema;
  register(server: McpServer, deps: ToolDeps): void;
}

/**
 * A tool from its declaration: the schemas converted to JSON Schema once (schema.ts), the default
 * annotations, and every call run with the shared policy (span, deadline, one log line, errors as
 * `isError` results).
 */
export function defineTool<In extends ObjectSchema, Out extends ObjectSchema>(
  def: ToolDefinition<In, Out>,
): Tool {
  const { name, input = z.object({}) as unknown as In } = def;
  // Schemas are built once, here, and shared by every per-request server: built per request, the
  // SDK would convert each again (schema.ts). One input per API version at most (FIRST_DATE).
  const fixed = typeof input === "function" ? undefined : withCachedJsonSchema(input);
  const byFirstDate = new Map<string, In>();
  const inputSchema = (firstDate: string): In => {
    if (fixed) return fixed;
    let schema = byFirstDate.get(firstDate);
    if (!schema) {
      schema = withCachedJsonSchema((input as (firstDate: string) => In)(firstDate));
      byFirstDate.set(firstDate, schema);
    }
    return schema;
  };
  const outputSchema = withCachedJsonSchema(def.output);
  const annotations = { ...DEFAULT_ANNOTATIONS, ...def.annotations };
  return {
    name,
    inputSchema,
    outputSchema,
    register(server, deps) {
      // Typed as any object schema here: the SDK's callback type cannot be resolved for a generic
      // schema. `args` has passed the input schema (with its defaults) before `run` sees it.
      const config = {
        title: def.title,
        description: def.description,
        inputSchema: inputSchema(deps.frankfurter.firstDate) as ObjectSchema,
        outputSchema: outputSchema as ObjectSchema,
        annotations,
      };
      server.registerTool(name, config, (args, extra) =>
        runTool(name, args, extra, deps, (trace) =>
          def.run(args as z.output<In>, { ...deps, trace }),
        ),
      );
    },
  };
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
async function runTool(
  name: string,
  args: Record<string, unknown>,
  extra: Extra,
  deps: ToolDeps,
  body: (trace: SpanContext) => Promise<ToolOutput<Record<string, unknown>>>,
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
  body: (trace: SpanContext) => Promise<ToolOutput<Record<string, unknown>>>,
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
    // A tool that uses no cache says nothing about it, and its line has no `cache` field.
    const cache = out.cacheHit === undefined ? undefined : out.cacheHit ? "hit" : "miss";
    log.log("INFO", `tool ${name}`, { ...fields, duration_ms: elapsed(started), cache }, trace);
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
