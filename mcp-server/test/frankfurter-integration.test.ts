// Frankfurter v2 (default) and v1 (a /v1 URL) through the service on a socket, over both MCP
// transports, against the stand-in.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
import { listenService, readRpc, type ListeningService } from "./support/service.js";

type Kind = "mcp" | "sse";
async function connect(base: string, kind: Kind): Promise<Client> {
  const client = new Client({ name: "frankfurter-test", version: "1.0.0" });
  const url = new URL(kind === "sse" ? "/sse" : "/mcp", base);
  await client.connect(
    kind === "sse" ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url),
  );
  return client;
}
const text = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
const call = async (
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> => (await client.callTool({ name, arguments: args })) as CallToolResult;
const BLENDED = "blended rate from central banks via Frankfurter";

describe("Frankfurter v2 through the mcp-server", () => {
  let upstream: FakeFrankfurter;
  let server: ListeningService;
  before(async () => {
    upstream = await startFrankfurter();
    server = await listenService({
      FRANKFURTER_URL: upstream.url,
      FRANKFURTER_TIMEOUT_MS: "3000",
      FRANKFURTER_MAX_CONCURRENT: "3",
      FRANKFURTER_MAX_BODY_BYTES: String(256 * 1024),
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

      for (const [from, to, amount] of [
        ["AED", "USD", 500],
        ["ARS", "GBP", 250],
        ["USD", "NGN", 100],
        ["NGN", "EUR", 20000],
      ] as const) {
        for (const date of ["latest", "2024-03-15"]) {
          it(`converts ${amount} ${from} to ${to} (${date})`, async () => {
            const r = await call(client, "get_exchange_rate", {
              currency_from: from,
              currency_to: to,
              amount,
              currency_date: date,
            });
            assert.equal(r.isError, undefined, text(r));
            const day = date === "latest" ? LATEST_DATE : date;
            const opts = date === "latest" ? {} : { date };
            assert.deepEqual(r.structuredContent, {
              amount,
              base: from,
              date: day,
              rates: { [to]: expectedConversion(from, to, amount, opts) },
              quote: to,
              rate: expectedRate(from, to, opts),
              source: BLENDED,
            });
            assert.equal(
              text(r),
              `${amount} ${from} = ${expectedConversion(from, to, amount, opts)} ${to} on ${day} (1 ${from} = ${expectedRate(from, to, opts)} ${to}; ${BLENDED})`,
            );
          });
        }
      }

      it("answers a Sunday with Friday's rate, and says so", async () => {
        const r = await call(client, "get_exchange_rate", {
          currency_from: "USD",
          currency_to: "AED",
          currency_date: "2024-03-17",
        });
        assert.equal((r.structuredContent as { date: string }).date, "2024-03-15");
        assert.match(text(r), /2024-03-15/);
      });

      it("lists 30+ currencies with names and date coverage, AED, ARS and NGN among them", async () => {
        const r = await call(client, "list_currencies", {});
        const s = r.structuredContent as {
          currencies: Record<string, string>;
          details: Array<{ code: string; start_date?: string; end_date?: string }>;
          source: string;
        };
        assert.ok(Object.keys(s.currencies).length > 30);
        assert.equal(s.currencies.NGN, "Nigerian Naira");
        assert.deepEqual(
          s.details.find((c) => c.code === "ARS"),
          {
            code: "ARS",
            name: "Argentine Peso",
            symbol: "$",
            start_date: "2002-01-02",
            end_date: LATEST_DATE,
          },
        );
        assert.equal(s.source, BLENDED);
      });

      it("groups a long history by week, a very long one by month", async () => {
        const week = await call(client, "get_exchange_rate_history", {
          currency_from: "USD",
          currency_to: "NGN",
          start_date: "2020-01-06",
          end_date: "2021-12-26",
        });
        const w = week.structuredContent as {
          group: string;
          rates: Record<string, Record<string, number>>;
        };
        assert.equal(w.group, "week");
        assert.equal(Object.keys(w.rates).length, 103);
        const month = await call(client, "get_exchange_rate_history", {
          currency_from: "USD",
          currency_to: "ARS",
          start_date: "2005-01-01",
          end_date: "2024-12-31",
        });
        assert.equal((month.structuredContent as { group: string }).group, "month");
        assert.equal(Object.keys((month.structuredContent as { rates: object }).rates).length, 240);
      });

      it("turns 404 and 422 into errors naming the currency, pair or date", async () => {
        const cases: Array<[Record<string, unknown>, RegExp]> = [
          [{ currency_from: "USD", currency_to: "XYZ" }, /XYZ is an unknown currency code/],
          [{ currency_from: "KPW", currency_to: "USD" }, /KPW to USD: KPW has no rates/],
          [
            { currency_from: "USD", currency_to: "NGN", currency_date: "2004-06-01" },
            /USD to NGN on 2004-06-01: NGN rates start on 2005-01-03/,
          ],
        ];
        for (const [args, message] of cases) {
          const r = await call(client, "get_exchange_rate", args);
          assert.equal(r.isError, true, JSON.stringify(args));
          assert.match(text(r), message);
        }
        const h = await call(client, "get_exchange_rate_history", {
          currency_from: "VES",
          currency_to: "USD",
          start_date: "2010-01-01",
          end_date: "2010-12-31",
        });
        assert.match(
          text(h),
          /VES to USD between 2010-01-01 and 2010-12-31: VES rates start on 2018-08-20/,
        );
      });

      it("has at most FRANKFURTER_MAX_CONCURRENT upstream requests in flight for 100 concurrent calls", async () => {
        upstream.setDelay(20);
        upstream.resetInFlight();
        try {
          const offset = kind === "mcp" ? 0 : 200;
          const dates = Array.from({ length: 100 }, (_, i) =>
            new Date(Date.UTC(2019, 0, 1 + offset + i)).toISOString().slice(0, 10),
          );
          const results = await Promise.all(
            dates.map((d) =>
              call(client, "get_exchange_rate", {
                currency_from: "AED",
                currency_to: "ARS",
                currency_date: d,
              }),
            ),
          );
          assert.equal(results.filter((r) => r.isError).length, 0);
          assert.ok(upstream.maxInFlight <= 3, `${upstream.maxInFlight} in flight`);
          assert.ok(upstream.maxInFlight >= 2, "the calls did overlap");
        } finally {
          upstream.setDelay(0);
        }
      });
    });
  }

  it("bounds upstream requests for a 100-call JSON-RPC batch too", async () => {
    upstream.setDelay(20);
    upstream.resetInFlight();
    const before = upstream.requests.length;
    try {
      const batch = Array.from({ length: 100 }, (_, i) => ({
        jsonrpc: "2.0",
        id: i + 1,
        method: "tools/call",
        params: {
          name: "get_exchange_rate",
          arguments: {
            currency_from: "USD",
            currency_to: "AED",
            currency_date: new Date(Date.UTC(2015, 0, 1 + i)).toISOString().slice(0, 10),
          },
        },
      }));
      const res = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          // The one version with batches (2025-06-18 removed them).
          "mcp-protocol-version": "2025-03-26",
        },
        body: JSON.stringify(batch),
      });
      assert.equal(res.status, 200);
      const answers = (await readRpc(res)) as Array<{ result?: CallToolResult }>;
      assert.equal(answers.length, 100);
      assert.ok(answers.every((a) => a.result && !a.result.isError));
      assert.equal(upstream.requests.length - before, 100);
      assert.ok(upstream.maxInFlight <= 3, `${upstream.maxInFlight} in flight`);
    } finally {
      upstream.setDelay(0);
    }
  });

  it("refuses an oversized upstream answer, keeps serving, and logs why", async () => {
    const client = await connect(server.url, "mcp");
    try {
      upstream.setMode("huge");
      const r = await call(client, "get_exchange_rate", {
        currency_from: "USD",
        currency_to: "AED",
        currency_date: "2013-05-06",
      });
      assert.equal(r.isError, true);
      assert.match(text(r), /too large/);
      upstream.setMode("ok");
      const ok = await call(client, "get_exchange_rate", {
        currency_from: "USD",
        currency_to: "AED",
        currency_date: "2013-05-06",
      });
      assert.equal(ok.isError, undefined);
    } finally {
      upstream.setMode("ok");
      await client.close();
    }
    const line = server
      .logs()
      .find(
        (l) => l.message === "tool get_exchange_rate failed" && l.upstream_reason === "too_large",
      );
    assert.ok(line, "a log line names the cause");
  });

  it("logs the cause when Frankfurter cannot be reached", async () => {
    const client = await connect(server.url, "mcp");
    try {
      upstream.setMode("down");
      const r = await call(client, "get_exchange_rate", {
        currency_from: "USD",
        currency_to: "AED",
        currency_date: "2012-05-07",
      });
      assert.match(text(r), /cannot be reached/);
    } finally {
      upstream.setMode("ok");
      await client.close();
    }
    const line = server
      .logs()
      .find(
        (l) =>
          l.message === "tool get_exchange_rate failed" &&
          (l.arguments as { currency_date?: string }).currency_date === "2012-05-07",
      );
    assert.equal(line?.upstream_reason, "reset");
    assert.ok(typeof line?.upstream_detail === "string" && line.upstream_detail.length > 0);
  });
});

describe("a Frankfurter URL that refuses connections", () => {
  it("logs connection refused, with the system error", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const server = await listenService({ FRANKFURTER_URL: `http://127.0.0.1:${port}/v2` });
    try {
      const client = await connect(server.url, "mcp");
      const r = await call(client, "get_exchange_rate", { currency_to: "NGN" });
      await client.close();
      assert.match(text(r), /cannot be reached/);
      const line = server.logs().find((l) => l.message === "tool get_exchange_rate failed");
      assert.equal(line?.upstream_reason, "refused");
      assert.match(String(line?.upstream_detail), /ECONNREFUSED/);
    } finally {
      await server.stop();
    }
  });
});

describe("Frankfurter v1 (a /v1 URL) through the mcp-server", () => {
  let upstream: FakeFrankfurter;
  let server: ListeningService;
  before(async () => {
    upstream = await startFrankfurter();
    server = await listenService({ FRANKFURTER_URL: upstream.v1Url });
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  for (const kind of ["mcp", "sse"] as const) {
    it(`still gives ECB reference rates over ${kind}`, async () => {
      const client = await connect(server.url, kind);
      try {
        const r = await call(client, "get_exchange_rate", {
          currency_from: "USD",
          currency_to: "GBP",
          amount: 10,
        });
        const ecb = expectedConversion("USD", "GBP", 10, { api: "v1" });
        assert.notEqual(
          ecb,
          expectedConversion("USD", "GBP", 10),
          "the stand-in's blend differs from the ECB",
        );
        assert.deepEqual(r.structuredContent, {
          amount: 10,
          base: "USD",
          date: LATEST_DATE,
          rates: { GBP: ecb },
          quote: "GBP",
          rate: Number((ecb / 10).toPrecision(6)),
          source: "ECB reference rate",
        });
        assert.match(text(r), /ECB reference rate/);
        const dated = await call(client, "get_exchange_rate", {
          currency_from: "EUR",
          currency_to: "USD",
          amount: 3,
          currency_date: "2024-03-15",
        });
        assert.equal(
          (dated.structuredContent as { rates: { USD: number } }).rates.USD,
          expectedConversion("EUR", "USD", 3, { api: "v1", date: "2024-03-15" }),
        );
        const aed = await call(client, "get_exchange_rate", {
          currency_from: "USD",
          currency_to: "AED",
        });
        assert.equal(aed.isError, true);
        assert.match(text(aed), /USD to AED/);
        const list = await call(client, "list_currencies", {});
        assert.equal(
          (list.structuredContent as { currencies: Record<string, string> }).currencies.AED,
          undefined,
        );
        const tooLong = await call(client, "get_exchange_rate_history", {
          currency_from: "USD",
          currency_to: "GBP",
          start_date: "2020-01-01",
          end_date: "2024-01-01",
        });
        assert.match(text(tooLong), /longer than 366 days/);
      } finally {
        await client.close();
      }
    });
  }
  it("sends v1 requests only", () => {
    assert.ok(
      upstream.requests.length > 0 && upstream.requests.every((r) => r.startsWith("/v1/")),
      upstream.requests.join("\n"),
    );
  });
});

describe("FRANKFURTER_PROVIDERS=ECB", () => {
  let upstream: FakeFrankfurter;
  let server: ListeningService;
  before(async () => {
    upstream = await startFrankfurter();
    server = await listenService({ FRANKFURTER_URL: upstream.url, FRANKFURTER_PROVIDERS: "ECB" });
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it("scopes v2 to ECB reference rates, and says so", async () => {
    const client = await connect(server.url, "sse");
    try {
      const r = await call(client, "get_exchange_rate", {
        currency_from: "USD",
        currency_to: "GBP",
        amount: 10,
      });
      assert.equal(
        (r.structuredContent as { rates: { GBP: number } }).rates.GBP,
        expectedConversion("USD", "GBP", 10, { providers: "ECB" }),
      );
      assert.equal(
        (r.structuredContent as { source: string }).source,
        "rate from ECB via Frankfurter",
      );
      const ngn = await call(client, "get_exchange_rate", {
        currency_from: "USD",
        currency_to: "NGN",
      });
      assert.match(text(ngn), /NGN has no rates from the providers ECB/);
      assert.ok(
        upstream.requests.some((q) => q.startsWith("/v2/rate/USD/GBP?providers=ECB")),
        upstream.requests.join("\n"),
      );
    } finally {
      await client.close();
    }
  });
});
