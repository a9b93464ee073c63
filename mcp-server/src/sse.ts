import {
  isJsonContentType,
  parseJSONRPCMessage,
  type JSONRPCMessage,
  type McpServer,
  type MessageExtraInfo,
  type Transport,
} from "@modelcontextprotocol/server";
import type { Logger } from "../../common/log.js";
import type { SpanContext } from "../../common/trace-context.js";
import type { Config } from "./config.js";
import { invalidToolArguments, rpcError, ServiceError } from "./errors.js";
import type { VerifiedToken } from "./oauth.js";

const encoder = new TextEncoder();

// Past SSE_MAX_QUEUED_BYTES unread, a session is closed: the instance keeps its memory.
type SseSettings = Pick<Config, Extract<keyof Config, `SSE_${string}`>>;

/** The legacy HTTP+SSE transport (2024-11-05) on web streams, for Node and Deno alike. */
export class WebSseServerTransport implements Transport {
  readonly sessionId = crypto.randomUUID();
  readonly stream: ReadableStream<Uint8Array>;
  readonly principal: string | undefined;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** `principal`: who opened the stream; only the same principal may post into it. */
  constructor(
    private readonly endpoint: string,
    private readonly settings: SseSettings,
    principal: string | undefined,
  ) {
    this.principal = principal;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // The client went away: free the session.
        cancel: () => void this.close(),
      },
      // desiredSize then counts the bytes the client has not read yet.
      new ByteLengthQueuingStrategy({ highWaterMark: settings.SSE_MAX_QUEUED_BYTES }),
    );
  }

  async start(): Promise<void> {
    this.#write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${this.sessionId}\n\n`);
    // Proxies (Cloud Run's front end among them) cut silent streams: a comment keeps it open.
    this.#keepAlive = setInterval(
      () => this.#write(": keep-alive\n\n"),
      this.settings.SSE_KEEPALIVE_MS,
    );
    (this.#keepAlive as { unref?: () => void }).unref?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error("SSE stream is closed");
    this.#write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    try {
      this.#controller.close();
    } catch {
      // already closed or cancelled by the client
    }
    this.onclose?.();
  }

  /** Handles one `POST /messages` body: 202 once accepted, the answer goes down the stream. */
  async handlePost(req: Request, authInfo?: VerifiedToken): Promise<Response> {
    if (this.#closed) throw rpcError(404, "Session closed: reconnect to /sse");
    // The media type itself, not a substring: `text/plain; x=application/json` is not JSON.
    if (!isJsonContentType(req.headers.get("content-type") ?? "")) {
      throw rpcError(415, "Content-Type must be application/json");
    }
    let message: JSONRPCMessage;
    try {
      const body: unknown = await req.json();
      const refused = invalidToolArguments(body);
      if (refused) {
        await this.send(refused);
        return new Response("Accepted", { status: 202 });
      }
      message = parseJSONRPCMessage(body);
    } catch {
      throw rpcError(400, "Invalid JSON-RPC message");
    }
    this.onmessage?.(message, { request: req, authInfo });
    return new Response("Accepted", { status: 202 });
  }

  #write(chunk: string): void {
    if (this.#closed) return;
    const bytes = encoder.encode(chunk);
    if ((this.#controller.desiredSize ?? 0) < bytes.byteLength) {
      const message = "SSE client is not reading: queued bytes over the bound, session closed";
      this.onerror?.(new Error(message));
      void this.#abort();
      return;
    }
    try {
      this.#controller.enqueue(bytes);
    } catch (err) {
      this.onerror?.(err as Error);
      void this.close();
    }
  }

  /** Ends the stream at once, dropping what is queued (close() would wait for the client). */
  async #abort(): Promise<void> {
    try {
      this.#controller.error(new Error("SSE session closed: client not reading"));
    } catch {
      // already errored
    }
    await this.close();
  }
}

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/** This instance's SSE sessions, each its opener's; their ids are capabilities, never logged. */
export class SseSessions {
  readonly #open = new Map<string, WebSseServerTransport>();
  #draining = false;

  constructor(
    private readonly config: SseSettings,
    private readonly logger: Logger,
    private readonly buildServer: () => McpServer,
  ) {}

  get size(): number {
    return this.#open.size;
  }

  /** `GET /sse`: a new session, or 503 past the cap or while the instance drains. */
  async open(
    req: Request,
    auth: VerifiedToken | undefined,
    trace?: SpanContext,
  ): Promise<Response> {
    const retry = { "Retry-After": "5" };
    if (this.#draining) {
      const message = "This instance is shutting down: reconnect, and another one will answer";
      throw new ServiceError(503, "shutting_down", message, { headers: retry });
    }
    const max = this.config.SSE_MAX_SESSIONS;
    if (this.#open.size >= max) {
      const fields = { open_sessions: this.#open.size, max_sessions: max };
      this.logger.log("WARNING", "SSE session refused: too many open", fields, trace);
      const message =
        "Too many open SSE sessions on this instance: " +
        "retry shortly, or use Streamable HTTP at /mcp";
      throw new ServiceError(503, "too_many_sessions", message, { headers: retry });
    }
    const transport = new WebSseServerTransport("/messages", this.config, auth?.extra.principal);
    const server = this.buildServer();
    this.#open.set(transport.sessionId, transport);
    transport.onclose = () => {
      this.#open.delete(transport.sessionId);
      this.logger.log("DEBUG", "SSE session closed", { open_sessions: this.#open.size });
    };
    await server.connect(transport);
    transport.onerror = (err) =>
      this.logger.log("WARNING", "SSE session error", { error: err.message });
    req.signal?.addEventListener("abort", () => void server.close(), { once: true });
    this.logger.log("DEBUG", "SSE session opened", { open_sessions: this.#open.size }, trace);
    return new Response(transport.stream, { headers: SSE_HEADERS });
  }

  /** `POST /messages?sessionId=…`: another caller's session answers as an unknown one. */
  async post(
    req: Request,
    auth: VerifiedToken | undefined,
    trace?: SpanContext,
  ): Promise<Response> {
    const sessionId = new URL(req.url).searchParams.get("sessionId");
    if (!sessionId) throw rpcError(400, "Missing sessionId query parameter");
    const transport = this.#open.get(sessionId);
    if (!transport || transport.principal !== auth?.extra.principal) {
      if (transport) {
        const message = "SSE post refused: session belongs to another caller";
        this.logger.log("WARNING", message, {}, trace);
      }
      throw rpcError(404, "Unknown or expired session: reconnect to /sse");
    }
    return transport.handlePost(req, auth);
  }

  /** Refuses new sessions and ends the open ones, so that their clients reconnect elsewhere. */
  drain(): void {
    this.#draining = true;
    for (const transport of this.#open.values()) void transport.close();
  }
}
