import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { JSONRPCMessageSchema, type JSONRPCMessage, type MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";

const encoder = new TextEncoder();

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05) on web-standard streams only, so it runs on
 * Node and Deno alike: `GET /sse` opens the stream and announces `POST /messages?sessionId=…`.
 */
export class WebSseServerTransport implements Transport {
  readonly sessionId = crypto.randomUUID();
  readonly stream: ReadableStream<Uint8Array>;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(
    private readonly endpoint: string,
    private readonly keepAliveMs = 15_000,
  ) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      // The client went away: free the session.
      cancel: () => void this.close(),
    });
  }

  async start(): Promise<void> {
    this.#write(`event: endpoint\ndata: ${this.endpoint}?sessionId=${this.sessionId}\n\n`);
    // Proxies (Cloud Run's front end among them) cut streams that stay silent; a comment keeps it open.
    this.#keepAlive = setInterval(() => this.#write(": keep-alive\n\n"), this.keepAliveMs);
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
    if (this.#closed) return jsonError(404, "Session closed");
    const type = req.headers.get("content-type") ?? "";
    if (!type.includes("application/json")) return jsonError(415, "Content-Type must be application/json");
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(await req.json());
    } catch {
      return jsonError(400, "Invalid JSON-RPC message");
    }
    const requestInfo = { headers: Object.fromEntries(req.headers.entries()), url: new URL(req.url) };
    this.onmessage?.(message, { requestInfo });
    return new Response("Accepted", { status: 202 });
  }

  #write(chunk: string): void {
    if (this.#closed) return;
    try {
      this.#controller.enqueue(encoder.encode(chunk));
    } catch (err) {
      this.onerror?.(err as Error);
      void this.close();
    }
  }
}

export function jsonError(status: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }, { status });
}
