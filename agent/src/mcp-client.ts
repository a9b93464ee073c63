import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ToolHost, ToolOutcome } from "./chat.js";
import type { Transport } from "./config.js";
import type { Logger } from "./log.js";
import type { ToolSpec } from "./models/types.js";

export interface McpConnectionOptions {
  url: string;
  transport: Transport;
  /** The authenticated fetch (ID token header provider), or plain fetch. */
  fetch?: FetchLike | undefined;
  timeoutMs: number;
  logger: Logger;
  version: string;
}

/**
 * One MCP connection per instance, opened on first use and reused by every turn. Tools are listed
 * once per connection. A dropped connection (server restart, lost SSE session, dead stream) is
 * reopened and the read-only call retried once, so a turn never hangs on a dead connection.
 */
export class McpConnection implements ToolHost {
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #tools: ToolSpec[] | undefined;
  #closed = false;

  constructor(private readonly opts: McpConnectionOptions) {}

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async listTools(): Promise<ToolSpec[]> {
    if (this.#tools) return this.#tools;
    return this.#retryOnce("tools/list", undefined, async (client) => {
      const { tools } = await client.listTools(undefined, { timeout: this.opts.timeoutMs });
      this.#tools = tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema as Record<string, unknown> }));
      return this.#tools;
    });
  }

  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolOutcome> {
    return this.#retryOnce(`tools/call ${name}`, signal, async (client) => {
      const result = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: this.opts.timeoutMs,
        ...(signal ? { signal } : {}),
      })) as CallToolResult;
      const text = result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
      return { isError: result.isError === true, text, structured: result.structuredContent };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#reset();
  }

  async #retryOnce<T>(what: string, signal: AbortSignal | undefined, op: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await op(await this.#connect());
    } catch (err) {
      if (signal?.aborted || this.#closed || !retryable(err)) throw describe(err, this.opts.url);
      this.opts.logger.log("WARNING", `MCP ${what} failed; reconnecting and retrying once`, { error: String(err) });
      await this.#reset();
      try {
        return await op(await this.#connect());
      } catch (again) {
        throw describe(again, this.opts.url);
      }
    }
  }

  #connect(): Promise<Client> {
    if (this.#closed) return Promise.reject(new Error("MCP connection is closed"));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const url = new URL(this.opts.url);
      const fetchOpt = this.opts.fetch ? { fetch: this.opts.fetch } : {};
      const transport =
        this.opts.transport === "sse" ? new SSEClientTransport(url, fetchOpt) : new StreamableHTTPClientTransport(url, fetchOpt);
      const client = new Client({ name: "agent", version: this.opts.version });
      client.onclose = () => {
        if (this.#client !== client) return;
        this.#client = undefined;
        this.#tools = undefined;
        this.opts.logger.log("INFO", "MCP connection closed; it reopens on the next call");
      };
      client.onerror = (err) => this.opts.logger.log("DEBUG", "MCP transport error", { error: String(err) });
      try {
        await client.connect(transport, { timeout: this.opts.timeoutMs });
      } catch (err) {
        await client.close().catch(() => {});
        throw err;
      }
      this.#client = client;
      this.opts.logger.log("INFO", "MCP connected", { url: this.opts.url, transport: this.opts.transport });
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

function retryable(err: unknown): boolean {
  // Protocol answers about the request itself won't change on another connection.
  return !(err instanceof McpError && [ErrorCode.InvalidParams, ErrorCode.MethodNotFound, ErrorCode.InvalidRequest].includes(err.code));
}

/** An error the caller can act on; the token, if any, is never part of it. */
export class McpUnavailableError extends Error {
  constructor(
    message: string,
    readonly status: 502 | 503,
  ) {
    super(message);
    this.name = "McpUnavailableError";
  }
}

function describe(err: unknown, url: string): Error {
  if (err instanceof McpUnavailableError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const status = typeof code === "number" && code >= 400 && code < 600 ? code : /\b(401|403|404)\b/.exec(raw)?.[1];
  const origin = new URL(url).origin;
  if (String(status) === "401") {
    return new McpUnavailableError(`The MCP server at ${origin} refused the agent's credentials (HTTP 401): check MCP_AUTH and MCP_AUDIENCE`, 502);
  }
  if (String(status) === "403") {
    return new McpUnavailableError(`The MCP server at ${origin} does not allow this agent (HTTP 403): grant its service account roles/run.invoker (make iam)`, 502);
  }
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
    return new McpUnavailableError(`The MCP server at ${origin} did not answer in time`, 503);
  }
  if (/ID token/.test(raw)) return new McpUnavailableError(raw, 502);
  return new McpUnavailableError(`The MCP server at ${origin} cannot be reached (${raw.slice(0, 160)})`, 503);
}
