// Both protocol eras on /mcp and the SSE lane, in process: the app's fetch behind real SDK v2 clients.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type FetchLike,
} from "@modelcontextprotocol/client";
import { loadConfig } from "../src/config.js";
import { expectedConversion } from "../../test/support/frankfurter.js";
import { createIdTokenSigner } from "../../test/support/id-tokens.js";
import { createLocalJWKSet } from "jose";
import { buildService, hangingFetch, readRpc, upstreamFetch } from "./support/service.js";
import { getExchangeRate } from "../src/tools/get-exchange-rate.js";
import { TOOLS } from "../src/tools/index.js";
import { createMcpHandler } from "@modelcontextprotocol/server";
import { FIRST_DATE, FrankfurterClient } from "../src/frankfurter/client.js";
import { createLogger } from "../../common/log.js";
import { buildToolServer } from "../src/tool-server.js";

const BASE = "http://127.0.0.1:8081";
const MODERN = "2026-07-28";
const META = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "test", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

async function setup(env: Record<string, string> = {}, extra?: Record<string, unknown>) {
  const service = await buildService(env, extra ? { fetch: upstreamFetch(extra) } : {});
  return { ...service, app: service.app, service };
}

async function connect(
  appFetch: FetchLike,
  kind: "mcp" | "sse",
  mode: "auto" | "legacy" = "auto",
): Promise<Client> {
  const client = new Client(
    { name: "protocol-test", version: "1.0.0" },
    kind === "mcp" ? { versionNegotiation: { mode } } : {},
  );
  const url = new URL(`/${kind}`, BASE);
  await client.connect(
    kind === "sse"
      ? new SSEClientTransport(url, { fetch: appFetch })
      : new StreamableHTTPClientTransport(url, { fetch: appFetch }),
  );
  return client;
}

const post = (
  app: Awaited<ReturnType<typeof setup>>["app"],
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> =>
  Promise.resolve(
    app.request("/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body: JSON.stringify(body),
    }),
  );
const modernHeaders = (method: string, name?: string): Record<string, string> => ({
  "mcp-protocol-version": MODERN,
  "mcp-method": method,
  ...(name ? { "mcp-name": name } : {}),
});

describe("/mcp, both protocol eras", () => {
  for (const [mode, version] of [
    ["auto", MODERN],
    ["legacy", "2025-11-25"],
  ] as const) {
    it(`negotiates ${version} with a ${mode} client and calls a tool`, async () => {
      const { appFetch } = await setup();
      const client = await connect(appFetch, "mcp", mode);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), version);
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_to: "GBP", amount: 3 },
        })) as CallToolResult;
        assert.deepEqual((r.structuredContent as { rates: object }).rates, {
          GBP: expectedConversion("USD", "GBP", 3, { api: "v1" }),
        });
      } finally {
        await client.close();
      }
    });
  }

  it("answers server/discover with 2026-07-28 and advertises no list_changed it could never send", async () => {
    const { app } = await setup();
    const res = await post(
      app,
      { jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: META } },
      modernHeaders("server/discover"),
    );
    assert.equal(res.status, 200);
    const { result } = (await res.json()) as {
      result: { supportedVersions: string[]; capabilities: { tools?: { listChanged?: boolean } } };
    };
    assert.deepEqual(result.supportedVersions, [MODERN]);
    assert.notEqual(result.capabilities.tools?.listChanged, true);
    const init = await post(app, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      },
    });
    const text = await init.text();
    assert.match(text, /"protocolVersion":"2025-11-25"/);
    assert.doesNotMatch(text, /"listChanged":true/);
    assert.equal(init.headers.get("mcp-session-id"), null, "stateless: no session id");
  });

  it("advertises the USD and EUR defaults in tools/list", async () => {
    const { appFetch } = await setup();
    const client = await connect(appFetch, "mcp");
    try {
      const { tools } = await client.listTools();
      const props = tools.find((t) => t.name === "get_exchange_rate")!.inputSchema
        .properties as Record<string, { default?: unknown }>;
      assert.equal(props.currency_from?.default, "USD");
      assert.equal(props.currency_to?.default, "EUR");
      assert.equal(props.currency_date?.default, "latest");
      assert.equal(props.amount?.default, 1);
    } finally {
      await client.close();
    }
  });

  // app.ts answers 2025-era requests with its own plain-JSON lane because the SDK's lane streams
  // every answer as SSE, at a measured cost (docs/decisions.md). When it stops, this fails: drop
  // the lane for `createMcpHandler`'s default legacy serving.
  it("answers 2025-era calls as plain JSON, where the SDK's own legacy lane answers SSE", async () => {
    const { app } = await setup();
    const call = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "get_exchange_rate", arguments: {} },
    };
    const legacy = { "mcp-protocol-version": "2025-11-25" };
    const ours = await post(app, call, legacy);
    assert.match(ours.headers.get("content-type") ?? "", /^application\/json/);
    const frankfurter = new FrankfurterClient(
      loadConfig({ FRANKFURTER_URL: "http://frankfurter.test/v1" }),
      { fetch: upstreamFetch() },
    );
    const deps = {
      frankfurter,
      logger: createLogger({}, () => {}),
      now: Date.now,
      callTimeoutMs: 25_000,
    };
    const sdk = createMcpHandler(() => buildToolServer(deps));
    const res = await sdk.fetch(
      new Request("http://127.0.0.1:8081/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...legacy,
        },
        body: JSON.stringify(call),
      }),
    );
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    await res.text();
  });

  // tools/schema.ts converts each tool schema to JSON Schema once, through the `~standard.jsonSchema`
  // hook the SDK calls; if the SDK stops calling it, the cache is dead weight and must go.
  it("takes each tool's JSON Schema from the one-time conversion, in both eras", async () => {
    type Convert = (options: unknown) => unknown;
    const input = getExchangeRate.inputSchema(FIRST_DATE.v1);
    const hooks = [input, getExchangeRate.outputSchema].map(
      (schema) =>
        (schema["~standard"] as unknown as { jsonSchema: { input: Convert; output: Convert } })
          .jsonSchema,
    );
    const calls = [0, 0]; // per schema: input, output
    const saved = hooks.map((h) => ({ ...h }));
    hooks.forEach((h, i) => {
      h.input = (o) => {
        calls[i]!++;
        return saved[i]!.input(o);
      };
      h.output = (o) => {
        calls[i]!++;
        return saved[i]!.output(o);
      };
    });
    try {
      const { app } = await setup();
      const args = { name: "get_exchange_rate", arguments: { currency_to: "JPY" } };
      await post(
        app,
        { jsonrpc: "2.0", id: 1, method: "tools/call", params: { ...args, _meta: META } },
        modernHeaders("tools/call", "get_exchange_rate"),
      );
      assert.ok(calls[0]! > 0 && calls[1]! > 0, `the SDK asked ${calls.join(" and ")} times`);
      const first = saved[0]!.input({ target: "draft-2020-12" });
      assert.equal(
        saved[0]!.input({ target: "draft-2020-12" }),
        first,
        "converted once, then shared",
      );
      assert.ok(Object.isFrozen(first), "shared between requests: frozen");
    } finally {
      for (const [i, h] of hooks.entries()) Object.assign(h, saved[i]);
    }
  });

  it("returns exactly the declared output fields when upstream adds one, so validating clients accept it", async () => {
    const { appFetch } = await setup({}, { provider: "ECB", note: "new field" });
    const client = await connect(appFetch, "mcp");
    try {
      const rate = (await client.callTool({
        name: "get_exchange_rate",
        arguments: { amount: 2 },
      })) as CallToolResult;
      assert.equal(rate.isError, undefined, JSON.stringify(rate.content));
      assert.deepEqual(Object.keys(rate.structuredContent ?? {}).sort(), [
        "amount",
        "base",
        "date",
        "quote",
        "rate",
        "rates",
        "source",
      ]);
      const history = (await client.callTool({
        name: "get_exchange_rate_history",
        arguments: {
          currency_from: "USD",
          currency_to: "GBP",
          start_date: "2024-01-01",
          end_date: "2024-01-05",
        },
      })) as CallToolResult;
      assert.equal(history.isError, undefined, JSON.stringify(history.content));
      assert.deepEqual(Object.keys(history.structuredContent ?? {}).sort(), [
        "amount",
        "base",
        "end_date",
        "group",
        "rates",
        "source",
        "start_date",
      ]);
    } finally {
      await client.close();
    }
  });

  for (const [label, args] of [
    ["an array", []],
    ["a string", "USD"],
    ["null", null],
  ] as const) {
    it(`answers tools/call with arguments as ${label} with -32602 and a readable message, in both eras`, async () => {
      const { app } = await setup();
      const call = {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "get_exchange_rate", arguments: args },
      };
      const legacy = await post(app, call, { "mcp-protocol-version": "2025-11-25" });
      const modern = await post(
        app,
        { ...call, params: { ...call.params, _meta: META } },
        modernHeaders("tools/call", "get_exchange_rate"),
      );
      for (const res of [legacy, modern]) {
        const body = (await res.json()) as { id: number; error: { code: number; message: string } };
        assert.equal(body.id, 7);
        assert.equal(body.error.code, -32602);
        assert.match(
          body.error.message,
          new RegExp(`"arguments" must be an object .* not ${label}`),
        );
        assert.doesNotMatch(body.error.message, /invalid_type|expected/);
      }
    });
  }

  it("answers GET with 405 and bad JSON with -32700", async () => {
    const { app, lines } = await setup();
    const get = await app.request("/mcp", { headers: { accept: "text/event-stream" } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal(((await get.json()) as { error: { code: number } }).error.code, -32000);
    // A client probing for a stream to listen on: the log says so, not "a 2025-era request".
    const logged = lines.join("\n");
    assert.match(logged, /"GET \/mcp refused \(405\): POST only","reason":"a stateless server/);
    assert.doesNotMatch(logged, /2025-era/);
    const bad = await app.request("/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{nope",
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: number } }).error.code, -32700);
    const plain = await app.request("/mcp", {
      method: "POST",
      headers: {
        "content-type": "text/plain; x=application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{}",
    });
    assert.equal(plain.status, 415);
  });
});

/** Opens `GET /sse` without reading further than the endpoint event; returns the session's post URL. */
async function openSse(
  app: Awaited<ReturnType<typeof setup>>["app"],
  headers: Record<string, string> = {},
) {
  const res = await app.request("/sse", { headers });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const endpoint = /data: (\S+)/.exec(first)![1]!;
  return { endpoint, reader, sessionId: new URL(endpoint, BASE).searchParams.get("sessionId")! };
}

describe("the SSE lane", () => {
  it("is bounded by default, and the bounds are settable", () => {
    const c = loadConfig({});
    assert.equal(c.SSE_MAX_SESSIONS, 200);
    assert.equal(c.SSE_MAX_QUEUED_BYTES, 256 * 1024);
    assert.equal(
      loadConfig({ SSE_MAX_SESSIONS: "5", SSE_MAX_QUEUED_BYTES: "65536" }).SSE_MAX_SESSIONS,
      5,
    );
    assert.throws(() => loadConfig({ SSE_MAX_QUEUED_BYTES: "10" }), /SSE_MAX_QUEUED_BYTES/);
  });

  it("calls tools through an SDK v2 client", async () => {
    const { appFetch } = await setup();
    const client = await connect(appFetch, "sse");
    try {
      const r = (await client.callTool({
        name: "get_exchange_rate",
        arguments: { currency_to: "JPY" },
      })) as CallToolResult;
      assert.deepEqual((r.structuredContent as { rates: object }).rates, {
        JPY: expectedConversion("USD", "JPY", 1, { api: "v1" }),
      });
    } finally {
      await client.close();
    }
  });

  it("takes only application/json itself on /messages, not a content type that mentions it", async () => {
    const { app } = await setup();
    const { endpoint, reader } = await openSse(app);
    const send = (type: string) =>
      app.request(endpoint, {
        method: "POST",
        headers: { "content-type": type },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
    assert.equal((await send("text/plain; x=application/json")).status, 415);
    assert.equal((await send("application/jsonx")).status, 415);
    assert.equal((await send("Application/JSON; charset=utf-8")).status, 202);
    await reader.cancel();
  });

  it("sends a readable -32602 down the stream for non-object tool arguments", async () => {
    const { app } = await setup();
    const { endpoint, reader } = await openSse(app);
    const res = await app.request(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "get_exchange_rate", arguments: [1] },
      }),
    });
    assert.equal(res.status, 202);
    const event = new TextDecoder().decode((await reader.read()).value);
    assert.match(event, /"code":-32602/);
    assert.match(event, /must be an object of named arguments/);
    await reader.cancel();
  });

  it("closes a session whose client stops reading once its queue passes the byte bound", async () => {
    const { app } = await setup({ SSE_MAX_QUEUED_BYTES: "16384" });
    const { endpoint } = await openSse(app);
    const list = () =>
      app.request(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });
    let status = 202;
    // Each tools/list answer is several KiB: a few dozen unread ones pass 16 KiB many times over.
    for (let i = 0; i < 50 && status === 202; i++) {
      status = (await list()).status;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(status, 404, "the session that does not read is closed");
  });

  it("caps open sessions with 503", async () => {
    const { app, service } = await setup({ SSE_MAX_SESSIONS: "2" });
    const a = await openSse(app);
    const b = await openSse(app);
    const refused = await app.request("/sse");
    assert.equal(refused.status, 503);
    assert.match(
      ((await refused.json()) as { error: { message: string } }).error.message,
      /Too many open SSE sessions/,
    );
    await a.reader.cancel();
    await new Promise((r) => setImmediate(r));
    assert.equal(service.status().open_sse_sessions, 1);
    const c = await openSse(app);
    await Promise.all([b.reader.cancel(), c.reader.cancel()]);
  });

  it("lets only the identity that opened a session post into it, and never logs session ids", async () => {
    const signer = await createIdTokenSigner();
    const audience = "https://mcp.test";
    const people = {
      alice: "alice@x.iam.gserviceaccount.com",
      bob: "bob@x.iam.gserviceaccount.com",
    };
    const tokens = {
      alice: await signer.sign({
        aud: audience,
        email: people.alice,
        email_verified: true,
        sub: "111",
      }),
      bob: await signer.sign({
        aud: audience,
        email: people.bob,
        email_verified: true,
        sub: "222",
      }),
    };
    const env = {
      MCP_SERVER_AUTH: "google-id-token",
      MCP_AUTH_AUDIENCE: audience,
      MCP_ALLOWED_INVOKERS: Object.values(people).join(","),
    };
    const { app, lines } = await buildService(env, { keys: createLocalJWKSet(signer.jwks) });
    const { endpoint, reader, sessionId } = await openSse(app, {
      authorization: `Bearer ${tokens.alice}`,
    });
    const ping = (who: "alice" | "bob") =>
      app.request(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens[who]}` },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
    const intruder = await ping("bob");
    assert.equal(
      intruder.status,
      404,
      "another identity cannot post, nor learn that the session exists",
    );
    assert.equal((await ping("alice")).status, 202);
    await reader.cancel();
    await new Promise((r) => setImmediate(r));
    assert.ok(lines.length > 0);
    assert.ok(!lines.some((l) => l.includes(sessionId)), "no log line carries the session id");
  });
});

describe("drain", () => {
  it("ends open SSE streams, refuses new ones, and waits for a call in flight", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = (async (input: string | URL | Request, init?: RequestInit) => {
      await held;
      return upstreamFetch()(input, init);
    }) as typeof fetch;
    const { app, drain } = await buildService({}, { fetch: slow });
    const sse = await openSse(app);
    const call = Promise.resolve(
      post(
        app,
        {
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "list_currencies", arguments: {} },
        },
        {
          "mcp-protocol-version": "2025-11-25",
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    let drained = false;
    const draining = drain(Date.now() + 5_000).then(() => (drained = true));
    assert.equal((await sse.reader.read()).done, true, "the open stream ends");
    assert.equal((await app.request("/sse")).status, 503, "no new session while draining");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false, "drain waits for the call in flight");
    release();
    assert.equal((await call).status, 200);
    await draining;
    assert.equal(drained, true);
  });

  it("gives up waiting at its deadline", async () => {
    const never = (() => new Promise<Response>(() => {})) as typeof fetch;
    const { app, drain } = await buildService({}, { fetch: never });
    void post(
      app,
      {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "list_currencies", arguments: {} },
      },
      {
        "mcp-protocol-version": "2025-11-25",
      },
    );
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await drain(Date.now() + 100);
    assert.ok(Date.now() - started < 1_000);
  });
});

describe("tool schemas name the first day the configured API version has", () => {
  for (const [version, first] of [
    ["v1", "1999-01-04"],
    ["v2", "1948-01-01"],
  ] as const) {
    it(`says "from ${first}" over Frankfurter ${version}`, async () => {
      const { app } = await setup({ FRANKFURTER_URL: `http://frankfurter.test/${version}` });
      const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
      const res = await post(app, list, { "mcp-protocol-version": "2025-11-25" });
      const { result } = (await res.json()) as {
        result: {
          tools: Array<{
            name: string;
            inputSchema: { properties: Record<string, { description?: string }> };
          }>;
        };
      };
      const prop = (tool: string, field: string): string =>
        result.tools.find((t) => t.name === tool)?.inputSchema.properties[field]?.description ?? "";
      assert.match(prop("get_exchange_rate", "currency_date"), new RegExp(`from ${first}\\)`));
      assert.match(prop("get_exchange_rate_history", "start_date"), new RegExp(`from ${first}\\)`));
    });
  }
});

describe("JSON-RPC batches: every element answered, or the batch refused whole", () => {
  const batch = [
    { jsonrpc: "2.0", id: 1, method: "tools/list" },
    { bogus: 1 },
    {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "get_exchange_rate", arguments: "USD" },
    },
  ];
  it("answers each element where batches exist (2025-03-26, the version without a header)", async () => {
    const { app } = await setup();
    const eras: Array<Record<string, string>> = [{}, { "mcp-protocol-version": "2025-03-26" }];
    for (const headers of eras) {
      const res = await post(app, batch, headers);
      assert.equal(res.status, 200);
      const answers = (await res.json()) as Array<{
        id: number | null;
        result?: { tools: unknown[] };
        error?: { code: number };
      }>;
      const byId = (id: number | null) => answers.find((a) => a.id === id);
      assert.equal(answers.length, 3, JSON.stringify(headers));
      assert.equal(byId(1)?.result?.tools.length, TOOLS.length);
      assert.equal(byId(null)?.error?.code, -32600);
      assert.equal(byId(3)?.error?.code, -32602);
    }
  });
  it("answers an empty batch with one Invalid Request error (JSON-RPC 2.0 §6), in every era", async () => {
    const { app } = await setup();
    for (const headers of [{}, { "mcp-protocol-version": "2025-11-25" }, modernHeaders("ping")]) {
      const res = await post(app, [], headers);
      assert.equal(res.status, 400, JSON.stringify(headers));
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.jsonrpc, "2.0");
      assert.equal(body.id, null);
      assert.equal((body.error as { code: number }).code, -32600);
    }
  });
  it("refuses a batch whole, with one error naming the version, where the protocol has none", async () => {
    const { app } = await setup();
    for (const headers of [
      { "mcp-protocol-version": "2025-06-18" },
      { "mcp-protocol-version": "2025-11-25" },
      modernHeaders("tools/list"),
    ]) {
      const res = await post(app, [batch[0]], headers);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { id: null; error: { code: number; message: string } };
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, /no JSON-RPC batches .*send each message/);
    }
  });
});

describe("a call still running at the drain deadline", () => {
  for (const era of ["2025-11-25", MODERN]) {
    it(`gets a JSON-RPC error saying the server is shutting down, not a cut connection (${era})`, async () => {
      const { app, drain } = await buildService({}, { fetch: hangingFetch });
      const call = {
        jsonrpc: "2.0",
        id: 9,
        method: "tools/call",
        params: {
          name: "list_currencies",
          arguments: {},
          ...(era === MODERN ? { _meta: META } : {}),
        },
      };
      const headers =
        era === MODERN
          ? modernHeaders("tools/call", "list_currencies")
          : { "mcp-protocol-version": era };
      const answer = post(app, call, headers).then(readRpc);
      await new Promise((r) => setTimeout(r, 20));
      const drained = await drain(Date.now() + 100);
      assert.equal(drained.requests_unfinished, 1);
      const settled = await Promise.race([
        answer,
        new Promise((r) => setTimeout(() => r("no answer"), 500)),
      ]);
      assert.deepEqual(settled, {
        jsonrpc: "2.0",
        id: 9,
        error: { code: -32000, message: "the server is shutting down: send the request again" },
      });
    });
  }
});

describe("one deadline per tool call (TOOL_CALL_TIMEOUT_MS)", () => {
  it("answers 40 concurrent calls to a hanging Frankfurter within the deadline, queue included", async () => {
    const deadline = 400;
    const { app } = await buildService(
      {
        TOOL_CALL_TIMEOUT_MS: String(deadline),
        FRANKFURTER_TIMEOUT_MS: "300",
        FRANKFURTER_MAX_CONCURRENT: "2",
      },
      { fetch: hangingFetch, retryDelayMs: () => 1 },
    );
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const call = {
          jsonrpc: "2.0",
          id: i,
          method: "tools/call",
          // Distinct dates: no two calls share one upstream request.
          params: { name: "get_exchange_rate", arguments: { date: `2020-01-${10 + (i % 20)}` } },
        };
        const res = await post(app, call, { "mcp-protocol-version": "2025-11-25" });
        const body = (await res.json()) as {
          result: { isError?: boolean; content: [{ text: string }] };
        };
        return { ms: performance.now() - started, ...body.result };
      }),
    );
    for (const a of answers) {
      assert.equal(a.isError, true);
      assert.match(a.content[0].text, new RegExp(`timed out after ${deadline} ms`));
      // Without the per-call deadline the queue would hold the last calls for 20 × 300 ms (two at a
      // time against a 300 ms upstream timeout): a bound well under that, with room for a loaded
      // machine, tells the two apart without timing the deadline itself.
      assert.ok(a.ms < deadline * 4, `answered after ${Math.round(a.ms)} ms`);
    }
  });
});
