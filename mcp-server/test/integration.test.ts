// The bundle as a real process, a real SDK Client over both transports, the Frankfurter stand-in upstream.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  expectedConversion,
  expectedRate,
  LATEST_DATE,
  startFrankfurter,
  type FakeFrankfurter,
} from "../../test/support/frankfurter.js";
import { createIdTokenSigner, startCertsServer } from "../../test/support/id-tokens.js";
import { startService, type RunningService } from "../../test/support/service.js";
import { TOOLS } from "../src/tools/index.js";

async function connect(
  base: string,
  kind: "sse" | "mcp",
  headers?: Record<string, string>,
): Promise<Client> {
  const client = new Client({ name: "integration-test", version: "1.0.0" });
  const url = new URL(kind === "sse" ? "/sse" : "/mcp", base);
  const init = headers
    ? {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (u: string | URL, i?: RequestInit) =>
            fetch(u, {
              ...i,
              headers: { ...Object.fromEntries(new Headers(i?.headers)), ...headers },
            }),
        },
      }
    : {};
  await client.connect(
    kind === "sse"
      ? new SSEClientTransport(url, init)
      : new StreamableHTTPClientTransport(url, init),
  );
  return client;
}
let freshDays = 0;
const freshDate = (): string =>
  new Date(Date.UTC(2023, 0, 2 + freshDays++)).toISOString().slice(0, 10);
const text = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("");

describe("mcp-server bundle", () => {
  let upstream: FakeFrankfurter;
  let server: RunningService;
  before(async () => {
    upstream = await startFrankfurter();
    server = await startService("mcp-server", {
      FRANKFURTER_URL: upstream.url,
      FRANKFURTER_TIMEOUT_MS: "300",
    });
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  for (const kind of ["mcp", "sse"] as const) {
    describe(`over ${kind === "mcp" ? "Streamable HTTP" : "SSE"}`, () => {
      let client: Client;
      before(async () => {
        upstream.setMode("ok");
        client = await connect(server.url, kind);
      });
      after(async () => client?.close());

      it("lists every tool in the registry with schemas and annotations, the public ones among them", async () => {
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name),
          TOOLS.map((t) => t.name),
        );
        for (const name of ["get_exchange_rate", "get_exchange_rate_history", "list_currencies"]) {
          assert.ok(
            tools.some((t) => t.name === name),
            name,
          );
        }
        for (const t of tools) {
          assert.equal(t.inputSchema.type, "object", t.name);
          assert.equal(t.outputSchema?.type, "object", t.name);
          assert.equal(typeof t.annotations?.readOnlyHint, "boolean", t.name);
        }
        const rate = tools.find((t) => t.name === "get_exchange_rate")!;
        assert.equal(rate.annotations?.readOnlyHint, true);
        assert.equal(rate.annotations?.openWorldHint, true);
        assert.ok(rate.outputSchema?.properties?.rates);
        assert.deepEqual(Object.keys(rate.inputSchema.properties ?? {}).sort(), [
          "amount",
          "currency_date",
          "currency_from",
          "currency_to",
        ]);
      });

      it("converts an amount with get_exchange_rate", async () => {
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_from: "usd", currency_to: "EUR", amount: 100 },
        })) as CallToolResult;
        assert.equal(r.isError, undefined);
        const expected = expectedConversion("USD", "EUR", 100);
        assert.deepEqual(r.structuredContent, {
          amount: 100,
          base: "USD",
          date: LATEST_DATE,
          rates: { EUR: expected },
          quote: "EUR",
          rate: expectedRate("USD", "EUR"),
          source: "blended rate from central banks via Frankfurter",
        });
        assert.match(text(r), new RegExp(`100 USD = ${expected} EUR .*${LATEST_DATE}`));
      });

      it("uses the defaults USD to EUR, latest, 1", async () => {
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: {},
        })) as CallToolResult;
        assert.deepEqual((r.structuredContent as { rates: object }).rates, {
          EUR: expectedConversion("USD", "EUR", 1),
        });
      });

      it("lists currencies", async () => {
        const r = (await client.callTool({
          name: "list_currencies",
          arguments: {},
        })) as CallToolResult;
        assert.equal(
          (r.structuredContent as { currencies: Record<string, string> }).currencies.CHF,
          "Swiss Franc",
        );
      });

      it("returns a bounded history", async () => {
        const r = (await client.callTool({
          name: "get_exchange_rate_history",
          arguments: {
            currency_from: "USD",
            currency_to: "GBP",
            start_date: "2024-01-01",
            end_date: "2024-01-07",
          },
        })) as CallToolResult;
        const s = r.structuredContent as { rates: Record<string, Record<string, number>> };
        assert.deepEqual(Object.keys(s.rates), [
          "2024-01-01",
          "2024-01-02",
          "2024-01-03",
          "2024-01-04",
          "2024-01-05",
        ]);
        const tooLong = (await client.callTool({
          name: "get_exchange_rate_history",
          arguments: {
            currency_from: "USD",
            currency_to: "GBP",
            start_date: "1960-01-01",
            end_date: "2024-01-01",
          },
        })) as CallToolResult;
        assert.equal(tooLong.isError, true);
        assert.match(text(tooLong), /longer than 30 years/);
      });

      it("rejects bad input before calling upstream", async () => {
        const before = upstream.requests.length;
        const cases: Array<[Record<string, unknown>, RegExp]> = [
          [{ currency_from: "US" }, /3-letter/],
          [{ currency_to: "EUR/../../x" }, /3-letter/],
          [{ currency_date: "1947-12-31" }, /1948-01-01/],
          [{ currency_date: "2999-01-01" }, /future/],
          [{ currency_date: "2024-02-30" }, /calendar date/],
          [{ amount: -5 }, /greater than 0/],
          [{ amount: "ten" }, /number/],
        ];
        for (const [args, message] of cases) {
          const r = (await client.callTool({
            name: "get_exchange_rate",
            arguments: args,
          })) as CallToolResult;
          assert.equal(r.isError, true, JSON.stringify(args));
          assert.match(text(r), message, JSON.stringify(args));
        }
        assert.equal(upstream.requests.length, before);
      });

      it("answers a same-currency conversion without the upstream", async () => {
        const before = upstream.requests.length;
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_from: "CHF", currency_to: "chf", amount: 5 },
        })) as CallToolResult;
        assert.deepEqual((r.structuredContent as { rates: object }).rates, { CHF: 5 });
        assert.equal(upstream.requests.length, before);
      });

      it("turns every upstream failure into a clear tool error, and keeps the session", async () => {
        const expectations: Array<[Parameters<FakeFrankfurter["setMode"]>[0], RegExp]> = [
          ["down", /cannot be reached/],
          ["slow", /did not answer within/],
          ["5xx", /failed \(HTTP 503\)/],
          ["404", /No exchange rate found/],
          ["422", /rejected the request/],
        ];
        for (const [mode, message] of expectations) {
          upstream.setMode(mode);
          // A fresh date each time, so the cache cannot answer (v2 caches the rate, whatever the amount).
          const r = (await client.callTool({
            name: "get_exchange_rate",
            arguments: { currency_date: freshDate() },
          })) as CallToolResult;
          assert.equal(r.isError, true, mode);
          assert.match(text(r), message, mode);
        }
        upstream.setMode("flaky5xx");
        const retried = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_date: freshDate() },
        })) as CallToolResult;
        assert.equal(retried.isError, undefined, "one retry absorbs a single 5xx");
        upstream.setMode("ok");
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_to: "JPY" },
        })) as CallToolResult;
        assert.equal(r.isError, undefined);
      });

      it("reports an unknown currency from upstream", async () => {
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_to: "XYZ" },
        })) as CallToolResult;
        assert.equal(r.isError, true);
        assert.match(text(r), /unknown currency/);
      });
    });
  }

  it("logs one line per tool call with duration and cache use", async () => {
    const client = await connect(server.url, "mcp");
    await client.callTool({
      name: "get_exchange_rate",
      arguments: { currency_to: "SEK", currency_date: "2024-05-02" },
    });
    await client.callTool({
      name: "get_exchange_rate",
      arguments: { currency_to: "SEK", currency_date: "2024-05-02" },
    });
    await client.close();
    await new Promise((r) => setTimeout(r, 50));
    const lines = server
      .logs()
      .filter(
        (l) =>
          l.message === "tool get_exchange_rate" &&
          (l.arguments as { currency_to?: string }).currency_to === "SEK",
      );
    assert.deepEqual(
      lines.map((l) => l.cache),
      ["miss", "hit"],
    );
    assert.ok(lines.every((l) => typeof l.duration_ms === "number" && l.severity === "INFO"));
  });

  it("answers 400 without sessionId, 404 for an unknown one, 405 for GET /mcp", async () => {
    const post = (q: string): Promise<Response> =>
      fetch(`${server.url}/messages${q}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
    assert.equal((await post("")).status, 400);
    const unknown = await post("?sessionId=00000000-0000-0000-0000-000000000000");
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /Unknown or expired session/);
    assert.equal((await fetch(`${server.url}/mcp`)).status, 405);
    const bad = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{not json",
    });
    assert.equal(bad.status, 400);
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: "ok" });
  });

  it("keeps two SSE clients apart", async () => {
    const [a, b] = await Promise.all([connect(server.url, "sse"), connect(server.url, "sse")]);
    try {
      const [ra, rb] = (await Promise.all([
        a.callTool({ name: "get_exchange_rate", arguments: { currency_to: "GBP", amount: 7 } }),
        b.callTool({ name: "get_exchange_rate", arguments: { currency_to: "JPY", amount: 9 } }),
      ])) as CallToolResult[];
      assert.deepEqual((ra!.structuredContent as { rates: object }).rates, {
        GBP: expectedConversion("USD", "GBP", 7),
      });
      assert.deepEqual((rb!.structuredContent as { rates: object }).rates, {
        JPY: expectedConversion("USD", "JPY", 9),
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("mcp-server shutdown", () => {
  it("ends open SSE streams and exits 0 on SIGTERM", async () => {
    const upstream = await startFrankfurter();
    const server = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    try {
      const client = await connect(server.url, "sse");
      // An open SSE stream must not hold the process past Cloud Run's 10 s grace period.
      const code = await server.stop("SIGTERM");
      assert.equal(code, 0);
      assert.ok(
        server
          .logs()
          .some((l) => l.message === "SIGTERM: shutting down" && l.open_sse_sessions === 1),
      );
      await client.close();
    } finally {
      await server.stop("SIGKILL");
      await upstream.close();
    }
  });
});

describe("mcp-server bundle with MCP_SERVER_AUTH=google-id-token", () => {
  const audience = "https://mcp-server.example.run.app";
  const invoker = "agent@my-project.iam.gserviceaccount.com";
  let upstream: FakeFrankfurter;
  let certs: Awaited<ReturnType<typeof startCertsServer>>;
  let signer: Awaited<ReturnType<typeof createIdTokenSigner>>;
  let server: RunningService;
  let usedToken = "";
  before(async () => {
    upstream = await startFrankfurter();
    signer = await createIdTokenSigner();
    certs = await startCertsServer(signer);
    server = await startService("mcp-server", {
      FRANKFURTER_URL: upstream.url,
      MCP_SERVER_AUTH: "google-id-token",
      MCP_AUTH_AUDIENCE: audience,
      MCP_ALLOWED_INVOKERS: invoker,
      MCP_AUTH_CERTS_URL: certs.url,
    });
  });
  after(async () => {
    await server?.stop();
    await certs?.close();
    await upstream?.close();
  });

  it("keeps /health open and refuses a request without a token with 401 and WWW-Authenticate", async () => {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const r = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(r.status, 401);
    assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer realm="mcp-server"/);
    assert.equal((await fetch(`${server.url}/sse`)).status, 401);
  });

  it("lets an allowed invoker call tools over both transports", async () => {
    const token = await signer.sign({ aud: audience, email: invoker, email_verified: true });
    usedToken = token;
    for (const kind of ["mcp", "sse"] as const) {
      const client = await connect(server.url, kind, { authorization: `Bearer ${token}` });
      const r = (await client.callTool({
        name: "get_exchange_rate",
        arguments: { amount: 2 },
      })) as CallToolResult;
      assert.deepEqual(
        (r.structuredContent as { rates: object }).rates,
        { EUR: expectedConversion("USD", "EUR", 2) },
        kind,
      );
      await client.close();
    }
  });

  it("answers 403 to a valid token from an account that is not allowed, 401 to a wrong audience", async () => {
    const call = async (token: string): Promise<Response> =>
      fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
        },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });
    assert.equal(
      (
        await call(
          await signer.sign({ aud: audience, email: "someone@else.iam.gserviceaccount.com" }),
        )
      ).status,
      403,
    );
    assert.equal(
      (await call(await signer.sign({ aud: "https://other.run.app", email: invoker }))).status,
      401,
    );
    assert.ok(
      usedToken && !server.output().includes(usedToken.split(".")[2]!),
      "tokens are never logged",
    );
  });
});
