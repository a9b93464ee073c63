import { isJsonContentType, parseJSONRPCMessage, type JSONRPCMessage, type MessageExtraInfo, type Transport } from "@modelcontextprotocol/server";

import { invalidToolArguments } from "./server.js";

const encoder = new TextEncoder();

export interface WebSseOptions {
  keepAliveMs?: number;
  /**
   * Bytes that may wait in this session's queue for a client that is not reading. Past it the
   * session is closed: a client that posts without reading would otherwise grow the server's memory.
   */
  maxQueuedBytes?: number;
  /** The authenticated caller that opened the stream; only the same caller may post into it. */
  principal?: string | undefined;
}

export const DEFAULT_SSE_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05, deprecated by the spec since 2025-03-26) on
 * web-standard streams only, so it runs on Node and Deno alike: `GET /sse` opens the stream and
 * announces `POST /messages?sessionId=…`.
 */
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
  readonly #keepAliveMs: number;

  constructor(
    private readonly endpoint: string,
    opts: WebSseOptions = {},
  ) {
    this.#keepAliveMs = opts.keepAliveMs ?? 15_000;
    this.principal = opts.principal;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // The client went away: free the session.
        cancel: () => void this.close(),
      },
      // desiredSize then counts the bytes the client has not read yet.
      new ByteLengthQueuingStrategy({ highWaterMark: opts.maxQueuedBytes ?? DEFAULT_SSE_MAX_QUEUED_BYTES }),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  async start(): Promise<void> {
    this.#write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${this.sessionId}\n\n`);
    // Proxies (Cloud Run's front end among them) cut streams that stay silent; a comment keeps it open.
    this.#keepAlive = setInterval(() => this.#write(": keep-alive\n\n"), this.#keepAliveMs);
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
  async handlePost(req: Request): Promise<Response> {
    if (this.#closed) return jsonError(404, "Session closed: reconnect to /sse");
    // The media type itself, not a substring: `text/plain; x=application/json` is not JSON.
    if (!isJsonContentType(req.headers.get("content-type") ?? "")) return jsonError(415, "Content-Type must be application/json");
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
      return jsonError(400, "Invalid JSON-RPC message");
    }
    this.onmessage?.(message, { request: req });
    return new Response("Accepted", { status: 202 });
  }

  #write(chunk: string): void {
    if (this.#closed) return;
    const bytes = encoder.encode(chunk);
    // A client that stops reading while it keeps posting: drop the session rather than the instance.
    if ((this.#controller.desiredSize ?? 0) < bytes.byteLength) {
      this.onerror?.(new Error("SSE client is not reading: queued bytes over the bound, session closed"));
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

  /** Ends the stream at once, dropping what is queued (close() would wait for the client to read it). */
  async #abort(): Promise<void> {
    try {
      this.#controller.error(new Error("SSE session closed: client not reading"));
    } catch {
      // already errored
    }
    await this.close();
  }
}

export function jsonError(status: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }, { status });
}
