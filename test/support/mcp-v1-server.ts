// A user's existing MCP server, built on the v1 SDK (`@modelcontextprotocol/sdk` 1.32, which stops at
// protocol 2025-11-25): Streamable HTTP on /mcp (stateless, as the v1 docs' stateless example) and
// the HTTP+SSE transport on /sse + /messages, on node:http. Our agent must keep working against it.
// Extra tools let tests provoke what real servers do: answer outside their output schema, or hang.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";

export interface V1Server {
  url: string;
  /** Calls of `hang` now waiting; resolve them with release(). */
  hanging: number;
  release(): void;
  /** Dies as a crashed process would: every socket destroyed, nothing answered. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

function build(onHang: (release: () => void) => void): McpServer {
  const server = new McpServer({ name: "v1-fixture", version: "1.0.0" });
  server.registerTool(
    "get_exchange_rate",
    {
      description: "Fixed-rate conversion",
      inputSchema: {
        currency_from: z.string().default("USD"),
        currency_to: z.string().default("EUR"),
        amount: z.number().default(1),
      },
      outputSchema: {
        amount: z.number(),
        base: z.string(),
        rates: z.record(z.string(), z.number()),
      },
    },
    async ({ currency_from, currency_to, amount }) => {
      const structured = { amount, base: currency_from, rates: { [currency_to]: amount * 0.5 } };
      return {
        content: [
          { type: "text", text: `${amount} ${currency_from} = ${amount * 0.5} ${currency_to}` },
        ],
        structuredContent: structured,
      };
    },
  );
  // Declares one shape in tools/list and answers another, as a buggy server does (the v1 McpServer would
  // catch its own mismatch, so the declaration is added to the listing only).
  server.registerTool(
    "bad_output",
    { description: "Breaks its declared output schema" },
    async () => ({
      content: [{ type: "text", text: "oops" }],
      structuredContent: { total: "many" },
    }),
  );
  const handlers = (
    server.server as unknown as {
      _requestHandlers: Map<
        string,
        (req: unknown, extra: unknown) => Promise<{ tools: Array<Record<string, unknown>> }>
      >;
    }
  )._requestHandlers;
  const list = handlers.get("tools/list")!;
  handlers.set("tools/list", async (req, extra) => {
    const result = await list(req, extra);
    for (const t of result.tools) {
      if (t.name === "bad_output")
        t.outputSchema = {
          type: "object",
          properties: { total: { type: "number" } },
          required: ["total"],
          additionalProperties: false,
        };
    }
    return result;
  });
  // A JSON-RPC error answer (v1's McpServer turns tool exceptions into isError results instead).
  const call = handlers.get("tools/call")!;
  handlers.set("tools/call", async (req, extra) => {
    if ((req as { params: { name: string } }).params.name === "rpc_error")
      throw new McpError(ErrorCode.InternalError, "Database on fire");
    return call(req, extra);
  });
  server.registerTool(
    "hang",
    { description: "Answers only when the test releases it" },
    async () => {
      await new Promise<void>((resolve) => onHang(resolve));
      return { content: [{ type: "text", text: "released" }] };
    },
  );
  return server;
}

export async function startV1Server(): Promise<V1Server> {
  const sse = new Map<string, SSEServerTransport>();
  const sockets = new Set<Socket>();
  let waiting: Array<() => void> = [];
  const onHang = (release: () => void): void => void waiting.push(release);

  const http: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    try {
      if (url.pathname === "/mcp") {
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        const server = build(onHang);
        res.on("close", () => void server.close());
        await server.connect(transport);
        await transport.handleRequest(req, res);
        return;
      }
      if (url.pathname === "/sse" && req.method === "GET") {
        const transport = new SSEServerTransport("/messages", res);
        sse.set(transport.sessionId, transport);
        res.on("close", () => sse.delete(transport.sessionId));
        await build(onHang).connect(transport);
        return;
      }
      if (url.pathname === "/messages" && req.method === "POST") {
        const transport = sse.get(url.searchParams.get("sessionId") ?? "");
        if (!transport) {
          res.writeHead(404).end("Session not found");
          return;
        }
        await transport.handlePostMessage(req, res);
        return;
      }
      res.writeHead(404).end();
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  http.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const { port } = http.address() as AddressInfo;
  const stop = async (hard: boolean): Promise<void> => {
    if (hard) for (const s of sockets) s.destroy();
    else http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get hanging() {
      return waiting.length;
    },
    release() {
      const w = waiting;
      waiting = [];
      for (const r of w) r();
    },
    kill: () => stop(true),
    close: async () => {
      const w = waiting;
      waiting = [];
      for (const r of w) r();
      await stop(false);
    },
  };
}
