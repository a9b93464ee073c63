import { setTimeout as sleep } from "node:timers/promises";
import {
  Client,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type FetchLike,
} from "@modelcontextprotocol/client";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
import type { Logger } from "../../../common/log.js";
import { inSpan, propagationFields } from "../../../common/trace-context.js";
import type { Config, Transport } from "../config.js";
import { redactText } from "../../../common/redact.js";
import { AppError, mcpError } from "../errors.js";
import type { ToolSpec } from "../models/types.js";
import type { ToolHost, ToolOutcome } from "../turn/index.js";
import { createIdTokenFetch } from "./id-token.js";

export interface McpConnectionOptions {
  url: string;
  transport: Transport;
  /** The authenticated fetch (ID token header provider), or plain fetch. */
  fetch?: FetchLike | undefined;
  timeoutMs: number;
  logger: Logger;
  version: string;
  /** Wait before the one retry after a transport failure, so a restarting server has a moment. */
  retryDelayMs?: number;
  /** Whether `fetch` adds a Google ID token (shown by GET /). */
  authenticated?: boolean;
}

/** The connection MCP_SERVER_URL names, with a Google ID token on every request when MCP_AUTH asks. */
export function createMcpConnection(
  config: Config,
  logger: Logger,
  version: string,
  baseFetch?: FetchLike,
): McpConnection {
  return new McpConnection({
    url: config.MCP_SERVER_URL,
    transport: config.transport,
    fetch: config.useIdToken ? createIdTokenFetch(config.audience, { baseFetch }) : baseFetch,
    authenticated: config.useIdToken,
    timeoutMs: config.MCP_TOOL_TIMEOUT_MS,
    logger,
    version,
  });
}

/** What `GET /` and `/ready` report about the connection. */
export interface McpStatus {
  transport: "sse" | "streamable-http";
  /** The protocol version the server and the agent agreed on: 2026-07-28, or a 2025 one after `initialize`. */
  protocol_version: string | undefined;
}

const RETRY_DELAY_MS = 300;

/**
 * One MCP connection per instance, opened on first use and shared by every turn; tools are listed
 * once per connection. A transport failure fails pending calls at once and retries the read-only call
 * once on a fresh connection; an answer from the server (an error, a schema mismatch) is reported and
 * the connection kept.
 */
export class McpConnection implements ToolHost {
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #tools: ToolSpec[] | undefined;
  #closed = false;
  #warmed = false;
  #negotiated: string | undefined;
  readonly #fetch: FetchLike;

  constructor(private readonly opts: McpConnectionOptions) {
    this.#fetch = withTraceHeaders(perRequestSignals(opts.fetch ?? fetch));
  }

  get authenticated(): boolean {
    return this.opts.authenticated === true;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The first read opens the connection in the background, once, so GET / can show the version. */
  get status(): McpStatus {
    if (!this.#warmed && !this.#client && !this.#connecting && !this.#closed) {
      this.#warmed = true;
      this.listTools().catch((err: unknown) =>
        this.opts.logger.log("WARNING", "MCP server not reachable; the first turn tries again", {
          detail: redactText(String(err)),
        }),
      );
    }
    return { transport: this.opts.transport, protocol_version: this.#negotiated };
  }

  async listTools(): Promise<ToolSpec[]> {
    if (this.#tools) return this.#tools;
    return this.#retryOnce("tools/list", undefined, async (client) => {
      const { tools } = await client.listTools(undefined, { timeout: this.opts.timeoutMs });
      this.#tools = tools.map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: t.inputSchema as Record<string, unknown>,
      }));
      return this.#tools;
    });
  }

  /** Readiness: asks the server now (not the cached list) within `timeoutMs`, or throws. */
  async probe(timeoutMs: number): Promise<{ tools: string[] } & McpStatus> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const timedOut = new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
      );
      const client = await Promise.race([this.#connect(), timedOut]);
      const { tools } = await client.listTools(undefined, {
        timeout: timeoutMs,
        signal,
        cacheMode: "refresh",
      });
      return { tools: tools.map((t) => t.name), ...this.status };
    } catch (err) {
      if (isTransportFailure(err)) await this.#reset();
      throw describe(
        signal.aborted ? new SdkError(SdkErrorCode.RequestTimeout, "probe timed out") : err,
        this.opts.url,
      );
    }
  }

  /**
   * One MCP client span per call (OpenTelemetry MCP conventions), whose context goes to the server in
   * the request's `_meta` (MCP 2026-07-28, SEP-414) as well as in the HTTP `traceparent` header.
   */
  callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<ToolOutcome> {
    const attributes = {
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": name,
      "gen_ai.operation.name": "execute_tool",
      "mcp.protocol.version": this.#negotiated,
      "network.transport": "tcp",
      "network.protocol.name": "http",
    };
    return inSpan(`tools/call ${name}`, { kind: "client", attributes }, (span) =>
      this.#retryOnce(`tools/call ${name}`, signal, async (client) => {
        const result = (await client.callTool(
          { name, arguments: args, _meta: propagationFields() },
          { timeout: this.opts.timeoutMs, ...(signal ? { signal } : {}) },
        )) as CallToolResult;
        const text = result.content
          .map((c) => (c.type === "text" ? c.text : `[${c.type}]`))
          .join("\n");
        if (result.isError) span.setError("tool_error");
        return {
          isError: result.isError === true,
          text,
          structured: result.structuredContent as Record<string, unknown> | undefined,
        };
      }),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#reset();
  }

  async #retryOnce<T>(
    what: string,
    signal: AbortSignal | undefined,
    op: (client: Client) => Promise<T>,
  ): Promise<T> {
    try {
      return await op(await this.#connect());
    } catch (err) {
      // Only a failed transport is worth a new connection: an answer would be the same again.
      if (signal?.aborted || this.#closed || !isTransportFailure(err))
        throw describe(err, this.opts.url);
      this.opts.logger.log("WARNING", `MCP ${what} failed; reconnecting and retrying once`, {
        error: redactText(String(err)),
      });
      await this.#reset();
      // A server that just died is usually still down for a moment: an immediate retry would fail too.
      // An abort ends the wait early; the retry then fails with the abort.
      await sleep(this.opts.retryDelayMs ?? RETRY_DELAY_MS, undefined, { signal }).catch(() => {});
      try {
        return await op(await this.#connect());
      } catch (again) {
        if (isTransportFailure(again)) await this.#reset();
        throw describe(again, this.opts.url);
      }
    }
  }

  #connect(): Promise<Client> {
    if (this.#closed)
      return Promise.reject(
        mcpError(503, "The MCP connection is closed (the agent is shutting down)"),
      );
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const url = new URL(this.opts.url);
      const sse = this.opts.transport === "sse";
      const transport = sse
        ? new SSEClientTransport(url, { fetch: this.#fetch })
        : new StreamableHTTPClientTransport(url, { fetch: this.#fetch });
      // Over /mcp: 2026-07-28 when the server offers it on server/discover, else the 2025 handshake.
      // SSE is a 2025-era transport only.
      // Tools' output schemas are checked by the validator scripts/bundle.mjs keeps (Ajv is left out).
      const client = new Client(
        { name: "agent", version: this.opts.version },
        {
          jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
          ...(sse ? {} : { versionNegotiation: { mode: "auto" } }),
        },
      );
      client.onclose = () => {
        if (this.#client !== client) return;
        this.#client = undefined;
        this.#tools = undefined;
        this.opts.logger.log("INFO", "MCP connection closed; it reopens on the next call");
      };
      client.onerror = (err) => {
        // The SSE stream died (server gone, proxy cut it): the answers to pending calls can never
        // arrive on it. Closing the client fails them now instead of at the tool timeout.
        if (err instanceof SseError && this.#client === client) {
          this.opts.logger.log(
            "WARNING",
            "MCP SSE stream lost; failing pending calls and reconnecting on the next call",
            { error: redactText(err.message) },
          );
          void this.#reset();
          return;
        }
        this.opts.logger.log("DEBUG", "MCP transport error", { error: redactText(String(err)) });
      };
      try {
        await client.connect(transport, { timeout: this.opts.timeoutMs });
      } catch (err) {
        await client.close().catch(() => {});
        throw err;
      }
      this.#client = client;
      this.#negotiated = client.getNegotiatedProtocolVersion();
      this.opts.logger.log("INFO", "MCP connected", {
        origin: url.origin,
        transport: this.opts.transport,
        protocol_version: this.#negotiated,
      });
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #reset(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#tools = undefined;
    await client?.close().catch(() => {});
  }
}

/**
 * True when the connection itself failed (nothing answered, the stream died, the session was lost),
 * false when the server answered. A JSON-RPC error, a result that breaks the declared output schema,
 * or a refusal of credentials would be the same on a new connection.
 */
export function isTransportFailure(err: unknown): boolean {
  if (err instanceof AppError) return false;
  if (err instanceof ProtocolError) return false;
  if (err instanceof SdkHttpError) {
    const status = httpStatus(err);
    // A lost SSE session (404) or a server restarting behind a proxy (5xx) is worth a new connection.
    return status === undefined || status === 404 || status >= 500;
  }
  if (err instanceof SdkError) {
    // The discover probe wraps what went wrong underneath: an outage, or an answer.
    if (err.code === SdkErrorCode.EraNegotiationFailed) {
      const cause = (err.data as { cause?: unknown } | undefined)?.cause ?? err.cause;
      return cause !== undefined && isTransportFailure(cause);
    }
    return [
      SdkErrorCode.ConnectionClosed,
      SdkErrorCode.SendFailed,
      SdkErrorCode.RequestTimeout,
      SdkErrorCode.NotConnected,
      SdkErrorCode.ClientHttpFailedToOpenStream,
    ].includes(err.code);
  }
  // fetch's TypeError ("fetch failed", connection refused), SseError, and anything unknown.
  return true;
}

function describe(err: unknown, url: string): AppError {
  if (err instanceof AppError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const origin = new URL(url).origin;
  const status = httpStatus(err) ?? Number(/\b(401|403)\b/.exec(raw)?.[1] ?? Number.NaN);
  if (status === 401)
    return mcpError(
      502,
      `The MCP server at ${origin} refused the agent's credentials (HTTP 401): check MCP_AUTH and MCP_AUDIENCE`,
    );
  if (status === 403)
    return mcpError(
      502,
      `The MCP server at ${origin} does not allow this agent (HTTP 403): grant its service account roles/run.invoker (make iam)`,
    );
  if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout)
    return mcpError(503, `The MCP server at ${origin} did not answer in time`);
  if (err instanceof SdkError && err.code === SdkErrorCode.InvalidResult)
    return mcpError(
      502,
      `The MCP server at ${origin} answered, but its answer did not match the tool's declared output schema (${raw.slice(0, 200)})`,
    );
  if (err instanceof ProtocolError) {
    const what = /output schema|structured content/i.test(raw)
      ? "its answer did not match the tool's declared output schema"
      : err.code === ProtocolErrorCode.InvalidParams
        ? "it refused the call's parameters"
        : err.code === ProtocolErrorCode.MethodNotFound
          ? "it does not support the method"
          : `it answered with error ${err.code}`;
    return mcpError(502, `The MCP server at ${origin} answered, but ${what}: ${raw.slice(0, 240)}`);
  }
  if (/ID token/.test(raw)) return mcpError(502, raw);
  return mcpError(503, `The MCP server at ${origin} cannot be reached (${raw.slice(0, 160)})`);
}

function httpStatus(err: unknown): number | undefined {
  if (err instanceof SdkHttpError) {
    const s = (err.data as { status?: unknown } | undefined)?.status;
    if (typeof s === "number") return s;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" && code >= 400 && code < 600 ? code : undefined;
}

/** Every request to the MCP server carries the current trace context (W3C `traceparent`, `tracestate`, `baggage`). */
export function withTraceHeaders(baseFetch: FetchLike): FetchLike {
  return (url, init) => {
    const fields = propagationFields();
    if (!fields.traceparent) return baseFetch(url, init);
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(fields)) headers.set(k, v);
    return baseFetch(url, { ...init, headers });
  };
}

/**
 * The SDK's transports pass one transport-wide AbortSignal to every fetch; each pending fetch hangs an
 * abort listener on it, so past ~1,500 concurrent calls Node warns (MaxListenersExceededWarning, a
 * non-JSON line on stderr). This gives each request its own signal and keeps one listener on the
 * shared one, which aborts them all when the transport closes.
 */
export function perRequestSignals(baseFetch: FetchLike): FetchLike {
  const pending = new WeakMap<AbortSignal, Set<AbortController>>();
  return async (url, init) => {
    const shared = init?.signal;
    if (!shared || shared.aborted) return baseFetch(url, init);
    let set = pending.get(shared);
    if (!set) {
      const controllers = new Set<AbortController>();
      set = controllers;
      pending.set(shared, controllers);
      shared.addEventListener(
        "abort",
        () => {
          for (const c of controllers) c.abort(shared.reason);
          controllers.clear();
        },
        { once: true },
      );
    }
    const own = new AbortController();
    set.add(own);
    const done = (): boolean => set.delete(own);
    let res: Response;
    try {
      res = await baseFetch(url, { ...init, signal: own.signal });
    } catch (err) {
      done();
      throw err;
    }
    // A JSON answer is complete once read; a stream stays abortable until it ends.
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      done();
      return res;
    }
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({ flush: () => void done() }),
    );
    own.signal.addEventListener("abort", done, { once: true });
    const wrapped = new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
    // The transports compare response.url with the request's (redirect checks): keep it.
    Object.defineProperty(wrapped, "url", { value: res.url });
    return wrapped;
  };
}
