// In-process HTTP helpers for tests of what only a real socket shows (kept-alive connections,
// malformed chunked bodies). Tests only.
import { serve } from "@hono/node-server";
import { connect, type AddressInfo } from "node:net";

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch handler (a Hono app's `fetch`) with the same Node adapter as the services' main.ts. */
export async function listen(
  fetchHandler: (req: Request) => Response | Promise<Response>,
): Promise<Listening> {
  const server = serve({ fetch: fetchHandler, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Writes raw bytes on a fresh socket and returns everything the server sent before closing. */
export function rawRequest(port: number, bytes: string, holdMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (d) => (out += d.toString()));
    socket.on("close", () => resolve(out));
    socket.on("error", () => resolve(out));
    socket.write(bytes);
    setTimeout(() => socket.destroy(), holdMs);
  });
}

/**
 * Sends a too-large POST, then small requests, several times over, with Node's fetch (which keeps
 * connections alive and reuses them). Returns every failure ("other side closed" and the like).
 */
export async function oversizeThenReuse(
  url: string,
  bigBytes: number,
  small: () => Promise<Response>,
  rounds = 6,
): Promise<{ failures: string[]; statuses: number[]; connection: Array<string | null> }> {
  const failures: string[] = [];
  const statuses: number[] = [];
  const connection: Array<string | null> = [];
  const big = JSON.stringify({ message: "x".repeat(bigBytes) });
  const attempt = async (what: string, op: () => Promise<Response>): Promise<void> => {
    try {
      const r = await op();
      statuses.push(r.status);
      if (what === "big") connection.push(r.headers.get("connection"));
      await r.arrayBuffer();
    } catch (err) {
      failures.push(
        `${what}: ${(err as Error).message} (${String((err as { cause?: Error }).cause?.message ?? "")})`,
      );
    }
  };
  for (let i = 0; i < rounds; i++) {
    await attempt("big", () =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: big,
      }),
    );
    // The adapter drains an unread body for at most 500 ms before it destroys the socket.
    await new Promise((r) => setTimeout(r, i % 2 === 0 ? 0 : 100));
    await attempt("small", small);
  }
  return { failures, statuses, connection };
}
