import type {
  CallToolResult,
  McpServer,
  ServerContext,
  ToolAnnotations,
} from "@modelcontextprotocol/server";
import * as z from "zod";
import {
  contextFromMeta,
  inSpan,
  incomingContext,
  type SpanContext,
} from "../../../common/trace-context.js";
import { ServiceError, upstreamError } from "../errors.js";
import type { ToolContext, ToolDeps } from "./common.js";
import { withCachedJsonSchema } from "./schema.js";

/** Every tool here reads an outside service (the rates API), changes nothing, and can repeat. */
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
  /** The arguments (none when left out), or a function of the API's first day, which they name. */
  input?: In | ((firstDate: string) => In);
  output: Out;
  /** Merged over DEFAULT_ANNOTATIONS. */
  annotations?: ToolAnnotations;
  /** A ServiceError it throws becomes an `isError` result with its public message. */
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

/** A tool from its declaration: schemas converted once (schema.ts), calls run by `runTool`. */
export function defineTool<In extends ObjectSchema, Out extends ObjectSchema>(
  def: ToolDefinition<In, Out>,
): Tool {
  const { name, input = z.object({}) as unknown as In } = def;
  // One input schema per API version at most, and one in all when it names no date.
  const byFirstDate = new Map<string, In>();
  const inputSchema = (firstDate: string): In => {
    const key = typeof input === "function" ? firstDate : "";
    let schema = byFirstDate.get(key);
    if (!schema) {
      schema = withCachedJsonSchema(typeof input === "function" ? input(firstDate) : input);
      byFirstDate.set(key, schema);
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
      // Typed as any object schema: the SDK's callback type cannot be resolved for a generic one.
      const config = {
        title: def.title,
        description: def.description,
        inputSchema: inputSchema(deps.frankfurter.firstDate) as ObjectSchema,
        outputSchema: outputSchema as ObjectSchema,
        annotations,
      };
      // `args` has passed the input schema, defaults filled, before `run` sees it.
      server.registerTool(name, config, (args, ctx) =>
        runTool(name, args, ctx, deps, (trace) =>
          def.run(args as z.output<In>, { ...deps, trace }),
        ),
      );
    },
  };
}

type Body = (trace: SpanContext) => Promise<ToolOutput<Record<string, unknown>>>;

/**
 * A tool call in a server span, parented by `_meta` (SEP-414; over SSE the POST is answered before
 * the call runs), else the HTTP headers. Not made current: `body` gets its context.
 */
async function runTool(
  name: string,
  args: Record<string, unknown>,
  ctx: ServerContext,
  deps: ToolDeps,
  body: Body,
): Promise<CallToolResult> {
  const req = ctx.http?.req;
  const parent =
    contextFromMeta(ctx.mcpReq._meta) ?? (req ? incomingContext(req.headers) : undefined);
  const attributes = {
    "mcp.method.name": "tools/call",
    "gen_ai.tool.name": name,
    "gen_ai.operation.name": "execute_tool",
    "jsonrpc.request.id": String(ctx.mcpReq.id),
    "mcp.session.id": ctx.sessionId,
  };
  const options = { kind: "server", parent, attributes, current: false } as const;
  return inSpan(`tools/call ${name}`, options, async (span) => {
    const auth = ctx.http?.authInfo;
    const fields = {
      tool: name,
      arguments: args,
      principal: auth?.extra?.principal,
      client_id: auth?.clientId || undefined,
    };
    const result = await runToolBody(fields, deps, span.context, body);
    if (result.isError) span.setError("tool_error");
    return result;
  });
}

/** `body` within TOOL_CALL_TIMEOUT_MS, in one log line; a failure an `isError` result. */
async function runToolBody(
  fields: { tool: string } & Record<string, unknown>,
  deps: ToolDeps,
  trace: SpanContext,
  body: Body,
): Promise<CallToolResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const name = fields.tool;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const message =
      `The call timed out after ${deps.callTimeoutMs} ms: the exchange-rate service is slow ` +
      "or busy right now; try again in a moment";
    const detail = `no answer within TOOL_CALL_TIMEOUT_MS (${deps.callTimeoutMs} ms)`;
    const timeout = () => reject(upstreamError("timeout", message, { reason: "timeout", detail }));
    timer = setTimeout(timeout, deps.callTimeoutMs);
  });
  try {
    // The upstream work left running past the deadline is bounded by FRANKFURTER_TIMEOUT_MS.
    const out = await Promise.race([body(trace), deadline]);
    // A tool that uses no cache has no `cache` field.
    const cache = out.cacheHit === undefined ? undefined : out.cacheHit ? "hit" : "miss";
    deps.logger.log("INFO", `tool ${name}`, { ...fields, duration_ms: elapsed(), cache }, trace);
    return { content: [{ type: "text", text: out.text }], structuredContent: out.structured };
  } catch (err) {
    const known = err instanceof ServiceError ? err : undefined;
    const message =
      known?.publicMessage ?? "Internal error while calling the exchange-rate service";
    deps.logger.log(
      known ? "WARNING" : "ERROR",
      `tool ${name} failed`,
      {
        ...fields,
        duration_ms: elapsed(),
        error: message,
        upstream_status: known?.upstreamStatus,
        kind: known?.code,
        upstream_reason: known?.reason,
        upstream_detail: known?.detail,
        detail: known ? undefined : String(err),
      },
      trace,
    );
    return { isError: true, content: [{ type: "text", text: message }] };
  } finally {
    clearTimeout(timer);
  }
}
