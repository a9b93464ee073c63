// The agent's MCP client against a user's SDK v1 server (both transports) and against failures.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, before, describe, it } from "node:test";
import {
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SseError,
} from "@modelcontextprotocol/client";
import { createLogger, silentLogger } from "../../common/log.js";
import { AppError } from "../src/errors.js";
import { isTransportFailure, McpConnection, perRequestSignals } from "../src/mcp/index.js";
import { startV1Server, type V1Server } from "../../test/support/mcp-v1-server.js";

const connection = (
  url: string,
  transport: "sse" | "streamable-http",
  extra: { lines?: string[]; fetch?: typeof fetch; retryDelayMs?: number; timeoutMs?: number } = {},
) =>
  new McpConnection({
    url,
    transport,
    timeoutMs: extra.timeoutMs ?? 60_000,
    logger: extra.lines ? createLogger({}, (l) => extra.lines!.push(l)) : silentLogger,
    version: "test",
    fetch: extra.fetch,
    retryDelayMs: extra.retryDelayMs ?? 50,
  });

describe("MCP client against an SDK v1 server", () => {
  let server: V1Server;
  before(async () => {
    server = await startV1Server();
  });
  after(async () => server?.close());

  for (const [transport, path] of [
    ["streamable-http", "/mcp"],
    ["sse", "/sse"],
  ] as const) {
    it(`lists and calls tools over ${path}, on the 2025 protocol the server offers`, async () => {
      const mcp = connection(`${server.url}${path}`, transport);
      try {
        const tools = await mcp.listTools();
        assert.ok(tools.some((t) => t.name === "get_exchange_rate"));
        const r = await mcp.callTool("get_exchange_rate", { amount: 4 });
        assert.deepEqual(r.structured, { amount: 4, base: "USD", rates: { EUR: 2 } });
        // The v1 server has no server/discover: /mcp falls back to the 2025 handshake.
        assert.equal(mcp.status.protocol_version, "2025-11-25");
        assert.equal(mcp.status.transport, transport);
      } finally {
        await mcp.close();
      }
    });
  }

  it("reports an answer that breaks the declared output schema as such, without reconnecting", async () => {
    const lines: string[] = [];
    const mcp = connection(`${server.url}/mcp`, "streamable-http", { lines });
    try {
      await mcp.listTools();
      const err = await mcp.callTool("bad_output", {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof AppError && err.status === 502, String(err));
      assert.match(err.message, /did not match the tool's declared output schema/);
      assert.doesNotMatch(err.message, /cannot be reached/);
      assert.ok(
        !lines.some((l) => l.includes("reconnecting")),
        "an answer is not a transport failure",
      );
      assert.ok(mcp.connected, "the connection is kept");
    } finally {
      await mcp.close();
    }
  });

  it("reports a JSON-RPC error from the server as what it is, without reconnecting", async () => {
    const lines: string[] = [];
    const mcp = connection(`${server.url}/mcp`, "streamable-http", { lines });
    try {
      const err = await mcp.callTool("rpc_error", {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof AppError && err.status === 502, String(err));
      assert.match(err.message, /answered, but it answered with error -32603: .*Database on fire/);
      assert.doesNotMatch(err.message, /cannot be reached/);
      assert.ok(!lines.some((l) => l.includes("reconnecting")));
    } finally {
      await mcp.close();
    }
  });
});

describe("MCP client failures", () => {
  it("fails a call pending on a dead SSE stream at once, not at the tool timeout", {
    timeout: 20_000,
  }, async () => {
    const server = await startV1Server();
    const lines: string[] = [];
    // A tool timeout far past the test's own: only noticing the dead stream can settle the call in time.
    const mcp = connection(`${server.url}/sse`, "sse", { lines, timeoutMs: 120_000 });
    try {
      await mcp.listTools();
      const pending = mcp.callTool("hang", {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      while (server.hanging === 0) await new Promise((r) => setTimeout(r, 5));
      await server.kill();
      const err = await pending;
      assert.ok(err instanceof AppError && err.code === "mcp_unavailable", String(err));
      assert.equal(err.status, 503);
      assert.match(err.message, /cannot be reached/);
      assert.ok(lines.some((l) => l.includes("MCP SSE stream lost")));
      assert.ok(
        lines.some((l) => l.includes("retrying once")),
        "the read-only call is retried once",
      );
    } finally {
      await mcp.close();
      await server.close().catch(() => {});
    }
  });

  it("waits a short backoff before its one retry when the server is down", async () => {
    const attempts: number[] = [];
    const down = (async () => {
      attempts.push(performance.now());
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    const mcp = connection("http://127.0.0.1:9/mcp", "streamable-http", {
      fetch: down,
      retryDelayMs: 200,
    });
    const err = await mcp.callTool("get_exchange_rate", {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AppError && err.code === "mcp_unavailable");
    assert.equal(err.status, 503);
    assert.equal(attempts.length, 2, "one attempt, one retry");
    // A lower bound only: load can make the gap longer, never shorter.
    assert.ok(
      attempts[1]! - attempts[0]! >= 190,
      `retried after ${attempts[1]! - attempts[0]!} ms`,
    );
  });

  it("probes readiness against the server, not the cached tool list", async () => {
    const server = await startV1Server();
    const mcp = connection(`${server.url}/mcp`, "streamable-http");
    try {
      const ready = await mcp.probe(2000);
      assert.ok(ready.tools.includes("get_exchange_rate"));
      assert.equal(ready.protocol_version, "2025-11-25");
      await mcp.listTools();
      await server.kill();
      assert.ok((await mcp.listTools()).length > 0, "the cached list would still say ready");
      await assert.rejects(mcp.probe(2000), AppError);
    } finally {
      await mcp.close();
    }
  });

  it("tells transport failures from answers", () => {
    assert.equal(isTransportFailure(new TypeError("fetch failed")), true);
    assert.equal(
      isTransportFailure(
        new SseError(undefined, "stream ended", undefined as unknown as ErrorEvent),
      ),
      true,
    );
    assert.equal(
      isTransportFailure(
        new SdkError(SdkErrorCode.EraNegotiationFailed, "probe failed", {
          cause: new TypeError("fetch failed"),
        }),
      ),
      true,
    );
    assert.equal(
      isTransportFailure(new SdkError(SdkErrorCode.EraNegotiationFailed, "no overlap")),
      false,
    );
    assert.equal(isTransportFailure(new SdkError(SdkErrorCode.ConnectionClosed, "closed")), true);
    assert.equal(
      isTransportFailure(
        new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, "gone", {
          status: 404,
          statusText: "Not Found",
        }),
      ),
      true,
    );
    assert.equal(
      isTransportFailure(
        new SdkHttpError(SdkErrorCode.ClientHttpAuthentication, "no", {
          status: 401,
          statusText: "Unauthorized",
        }),
      ),
      false,
    );
    assert.equal(isTransportFailure(new ProtocolError(-32602, "Invalid params")), false);
    assert.equal(isTransportFailure(new ProtocolError(-32603, "Internal error")), false);
    assert.equal(
      isTransportFailure(
        new SdkError(SdkErrorCode.InvalidResult, "Structured content does not match"),
      ),
      false,
    );
  });
});

describe("per-request abort signals", () => {
  it("hangs one listener on the transport's shared signal however many requests are pending, and aborts them all with it", async () => {
    const shared = new AbortController();
    const seen: AbortSignal[] = [];
    const never = (async (_url: string | URL, init?: RequestInit) => {
      seen.push(init!.signal!);
      return new Promise<Response>((_, reject) =>
        init!.signal!.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
      );
    }) as unknown as typeof fetch;
    const f = perRequestSignals(never);
    const calls = Array.from({ length: 1600 }, () =>
      f("http://x/mcp", { method: "POST", signal: shared.signal }).catch((e: Error) => e.message),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 1600);
    assert.equal(new Set(seen).size, 1600, "each request has its own signal");
    assert.equal(getEventListeners(shared.signal, "abort").length, 1);
    shared.abort();
    assert.deepEqual(new Set(await Promise.all(calls)), new Set(["aborted"]));
  });

  it("forgets a request once its JSON answer is back", async () => {
    const shared = new AbortController();
    let last: AbortSignal | undefined;
    const f = perRequestSignals((async (_u: string | URL, init?: RequestInit) => {
      last = init!.signal!;
      return Response.json({ ok: true });
    }) as unknown as typeof fetch);
    await f("http://x/mcp", { signal: shared.signal });
    shared.abort();
    assert.equal(last?.aborted, false, "a finished request is no longer tracked");
  });
});
