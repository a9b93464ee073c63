// Hardening checks (issue 10): private conversations per access mode, early refusals on kept-alive
// connections, SIGTERM's drain deadline, no internal addresses or credentials in public output,
// client-side body errors logged as warnings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createIapSigner,
  createIdTokenSigner,
  startJsonServer,
} from "../../test/support/id-tokens.js";
import { listen, oversizeThenReuse, rawRequest } from "../../test/support/http-probe.js";
import { buildAgent, chat, memoryStore } from "../../test/support/agent.js";
import { createLogger, silentLogger, type Logger } from "../../common/log.js";
import { loadConfig } from "../src/config.js";
import { mcpError } from "../src/errors.js";
import { createIdentify, type Identify } from "../src/identity/index.js";
import { OfflineModel } from "../src/models/offline.js";
import type { Model, ModelReply, ModelRequest } from "../src/models/types.js";
import type { ToolHost } from "../src/turn/index.js";

const TOOLS = [
  { name: "get_exchange_rate", description: "rates", inputSchema: { type: "object" } },
];
const tools: ToolHost = {
  listTools: async () => TOOLS,
  callTool: async () => ({
    isError: false,
    text: "ok",
    structured: { amount: 100, base: "USD", date: "2025-01-10", rates: { EUR: 90 } },
  }),
};

/** Answers with the number of earlier user messages it was shown: a conversation's memory, visible. */
class MemoryProbe implements Model {
  readonly name = "probe";
  seen: string[][] = [];
  async generate(req: ModelRequest): Promise<ModelReply> {
    const texts = req.contents
      .filter((c) => c.role === "user")
      .flatMap((c) =>
        c.parts.flatMap((p) => ("text" in p && typeof p.text === "string" ? [p.text] : [])),
      );
    this.seen.push(texts);
    return { text: `I have seen: ${texts.join(" | ")}` };
  }
}

async function setup(
  opts: {
    identify?: Identify;
    model?: Model;
    tools?: ToolHost;
    logger?: Logger;
    mcpUrl?: string;
    env?: Record<string, string>;
  } = {},
) {
  const model = opts.model ?? new MemoryProbe();
  const store = memoryStore();
  const agent = await buildAgent(
    {
      model,
      store,
      tools: opts.tools ?? tools,
      logger: opts.logger ?? silentLogger,
      newSessionId: () => crypto.randomUUID(),
      ...(opts.identify ? { identify: opts.identify } : {}),
    },
    { ...opts.env, ...(opts.mcpUrl ? { MCP_SERVER_URL: opts.mcpUrl } : {}) },
  );
  return { app: agent.app, agent, model, store };
}

describe("public agent: a conversation belongs to whoever holds the id the agent issued", () => {
  it("gives two clients that both send session_id my-session ids of their own, and keeps their histories apart", async () => {
    const { app } = await setup();
    const a = await chat(app, { message: "alice's secret question", session_id: "my-session" });
    const b = await chat(app, { message: "bob asks", session_id: "my-session" });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.notEqual(a.body.session_id, "my-session");
    assert.notEqual(b.body.session_id, "my-session");
    assert.notEqual(a.body.session_id, b.body.session_id);
    assert.match(a.body.session_id, /^[0-9a-f-]{36}$/, "a random UUID");
    assert.doesNotMatch(b.body.response, /alice/, "bob never sees alice's history");
  });

  it("continues a conversation with the returned id, and only with it", async () => {
    const { app } = await setup();
    const first = await chat(app, { message: "first question" });
    const again = await chat(app, {
      message: "second question",
      session_id: first.body.session_id,
    });
    assert.equal(again.body.session_id, first.body.session_id);
    assert.match(again.body.response, /first question \| second question/);
    const guess = await chat(app, {
      message: "third",
      session_id: "00000000-0000-4000-8000-000000000000",
    });
    assert.notEqual(guess.body.session_id, "00000000-0000-4000-8000-000000000000");
    assert.doesNotMatch(guess.body.response, /first question/);
  });

  it("still answers the seed's check with 200", async () => {
    const { app } = await setup({ model: new OfflineModel() });
    const r = await chat(app, {
      message: "What is 100 USD in EUR?",
      session_id: "test-1",
      user_id: "test-user",
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.user_id, "test-user");
    assert.match(r.body.response, /90/);
  });

  it("does the same on /chat/stream", async () => {
    const { app } = await setup();
    const res = await app.request("/chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"message":"hi","session_id":"my-session"}',
    });
    const session = /event: session\ndata: (.*)\n/.exec(await res.text())?.[1];
    assert.ok(session);
    assert.notEqual((JSON.parse(session) as { session_id: string }).session_id, "my-session");
  });
});

describe("private agent (Cloud Run IAM): the caller's principal owns its conversations", async () => {
  const signer = await createIdTokenSigner();
  const token = (email: string): Promise<string> =>
    signer.sign({
      aud: "https://agent.run.app",
      email,
      email_verified: true,
      sub: email.length.toString(),
    });
  const identify = createIdentify({ access: "private" });

  it("keys conversations by the token's principal, whatever user_id says", async () => {
    const { app } = await setup({ identify });
    const alice = { authorization: `Bearer ${await token("alice@example.com")}` };
    const bob = { authorization: `Bearer ${await token("bob@example.com")}` };
    const a = await chat(app, { message: "alice's secret question", session_id: "shared" }, alice);
    assert.equal(a.status, 200);
    assert.equal(a.body.user_id, "alice@example.com");
    assert.equal(a.body.session_id, "shared", "an authenticated caller may name its own sessions");
    const b = await chat(
      app,
      { message: "bob asks", session_id: "shared", user_id: "alice@example.com" },
      bob,
    );
    assert.equal(b.body.user_id, "bob@example.com");
    assert.doesNotMatch(
      b.body.response,
      /alice/,
      "bob cannot reach alice's session by claiming her user_id",
    );
    const a2 = await chat(app, { message: "alice again", session_id: "shared" }, alice);
    assert.match(a2.body.response, /alice's secret question \| alice again/);
  });

  it("keys a principal without an email as sub:<sub>, so it cannot take an email's conversations", async () => {
    const { app } = await setup({ identify });
    const alice = { authorization: `Bearer ${await token("alice@example.com")}` };
    const a = await chat(app, { message: "alice's secret question", session_id: "s" }, alice);
    assert.equal(a.body.user_id, "alice@example.com");
    // A principal with no email whose subject reads like Alice's address.
    const bySub = await signer.sign({ aud: "https://agent.run.app", sub: "alice@example.com" });
    const m = await chat(
      app,
      { message: "mallory", session_id: "s" },
      {
        authorization: `Bearer ${bySub}`,
      },
    );
    assert.equal(m.status, 200);
    assert.equal(m.body.user_id, "sub:alice@example.com");
    assert.doesNotMatch(m.body.response, /alice/, "no access to alice's conversation");
  });

  it("lowercases a principal's email in ASCII only, so a Kelvin sign cannot open kate's conversations", async () => {
    const { app } = await setup({ identify });
    const kate = { authorization: `Bearer ${await token("Kate@Example.com")}` };
    const a = await chat(app, { message: "kate's secret question", session_id: "s" }, kate);
    assert.equal(a.body.user_id, "kate@example.com");
    // U+212A KELVIN SIGN, which String's toLowerCase turns into "k".
    const kelvin = { authorization: `Bearer ${await token("\u212Aate@example.com")}` };
    const m = await chat(app, { message: "mallory", session_id: "s" }, kelvin);
    assert.equal(m.status, 200);
    assert.equal(m.body.user_id, "\u212Aate@example.com");
    assert.doesNotMatch(m.body.response, /kate's secret/, "no access to kate's conversation");
  });

  it("reads the token Cloud Run checked from X-Serverless-Authorization first", async () => {
    const { app } = await setup({ identify });
    const r = await chat(
      app,
      { message: "hi" },
      {
        "x-serverless-authorization": `Bearer ${await token("carol@example.com")}`,
        authorization: "Bearer app-token",
      },
    );
    assert.equal(r.body.user_id, "carol@example.com");
  });

  it("answers 401 without a token (the agent was reached without Cloud Run's check)", async () => {
    const { app } = await setup({ identify });
    for (const headers of [{}, { authorization: "Bearer not-a-jwt" }] as Array<
      Record<string, string>
    >) {
      const r = await chat(app, { message: "hi" }, headers);
      assert.equal(r.status, 401);
      assert.equal(r.body.error?.code, "unauthenticated");
    }
  });
});

describe("IAP agent: the verified signed header names the owner", async () => {
  const iap = await createIapSigner();
  const audience = "/projects/123456789/locations/europe-west1/services/agent";
  let keys = (): { status: number; json: string } => ({
    status: 200,
    json: JSON.stringify(iap.jwks),
  });
  let server: Awaited<ReturnType<typeof startJsonServer>>;
  before(async () => (server = await startJsonServer(() => keys())));
  after(async () => server?.close());
  const claims = { aud: audience, email: "dana@example.com", sub: "accounts.google.com:42" };
  const withHeader = async (token: string) => ({ "x-goog-iap-jwt-assertion": token });

  it("accepts IAP's ES256 assertion and uses its email as the owner", async () => {
    const { app } = await setup({
      identify: createIdentify({ access: "iap", iapAudience: audience, iapKeysUrl: server.url }),
    });
    const r = await chat(
      app,
      { message: "hi", user_id: "someone-else" },
      await withHeader(await iap.sign(claims)),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.user_id, "dana@example.com");
  });

  it("refuses a missing header, a wrong audience or issuer, an old or future assertion, an RS256 token, with 401", async () => {
    const { app } = await setup({
      identify: createIdentify({ access: "iap", iapAudience: audience, iapKeysUrl: server.url }),
    });
    const rsa = await createIdTokenSigner();
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Record<string, string>]> = [
      ["missing", {}],
      [
        "wrong audience",
        await withHeader(
          await iap.sign({ ...claims, aud: "/projects/1/locations/x/services/other" }),
        ),
      ],
      [
        "wrong issuer",
        await withHeader(await iap.sign({ ...claims, iss: "https://accounts.google.com" })),
      ],
      [
        "expired",
        await withHeader(await iap.sign(claims, { issuedAt: now - 3600, expiresInSeconds: 600 })),
      ],
      ["issued in the future", await withHeader(await iap.sign(claims, { issuedAt: now + 3600 }))],
      ["RS256 Google ID token", await withHeader(await rsa.sign(claims))],
      [
        "unsigned claims",
        {
          "x-goog-iap-jwt-assertion": `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`,
        },
      ],
    ];
    for (const [name, headers] of cases) {
      const r = await chat(app, { message: "hi" }, headers);
      assert.equal(r.status, 401, name);
      assert.equal(r.body.error?.code, "unauthenticated", name);
    }
  });

  it("answers 503 when IAP's keys cannot be had (not JSON, not a JWKS, HTTP 500)", async () => {
    for (const answer of [
      { status: 200, json: "<html>" },
      { status: 200, json: '{"hello":"world"}' },
      { status: 500, json: "{}" },
    ]) {
      keys = () => answer;
      const { app } = await setup({
        identify: createIdentify({ access: "iap", iapAudience: audience, iapKeysUrl: server.url }),
      });
      const r = await chat(app, { message: "hi" }, await withHeader(await iap.sign(claims)));
      assert.equal(r.status, 503, answer.json);
      assert.equal(r.body.error?.code, "identity_unavailable");
    }
    keys = () => ({ status: 200, json: JSON.stringify(iap.jwks) });
  });
});

describe("AGENT_ACCESS configuration", () => {
  it("defaults to public, so make up works without a token", () => {
    assert.equal(loadConfig({}).AGENT_ACCESS, "public");
    assert.equal(loadConfig({ AGENT_ACCESS: "private" }).AGENT_ACCESS, "private");
  });
  it("needs IAP_AUDIENCE for iap and names it", () => {
    assert.throws(() => loadConfig({ AGENT_ACCESS: "iap" }), /IAP_AUDIENCE/);
    assert.throws(() => loadConfig({ AGENT_ACCESS: "open" }), /AGENT_ACCESS/);
    assert.equal(
      loadConfig({ AGENT_ACCESS: "iap", IAP_AUDIENCE: "/projects/1/locations/r/services/s" })
        .IAP_KEYS_URL,
      "https://www.gstatic.com/iap/verify/public_key-jwk",
    );
  });
});

describe("SIGTERM past the drain deadline", () => {
  /** A model that never answers and ignores cancellation: the worst case for a drain. */
  const stuck: Model = { name: "stuck", generate: () => new Promise<ModelReply>(() => {}) };
  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

  it("answers a running /chat and one waiting behind it with 503 JSON", async () => {
    const { app, agent, store } = await setup({ model: stuck });
    // A conversation the agent issued earlier; the second turn queues behind the first on its lock.
    await store.save({ app: "currency-agent", userId: "anonymous", sessionId: "issued-1" }, [
      { role: "user", parts: [{ text: "earlier" }] },
      { role: "model", parts: [{ text: "ok" }] },
    ]);
    const running = chat(app, { message: "one", session_id: "issued-1" });
    const waiting = chat(app, { message: "two", session_id: "issued-1" });
    await tick();
    assert.deepEqual(await agent.drain(Date.now()), { turns_answered_503: 2, turns_abandoned: 0 });
    for (const r of await Promise.all([running, waiting])) {
      assert.equal(r.status, 503);
      assert.equal(r.body.error?.code, "shutting_down");
      assert.match(r.body.error?.message ?? "", /again/);
    }
    const late = await chat(app, { message: "after the deadline" });
    assert.equal(late.status, 503);
  });

  it("ends an open stream with event: error (503)", async () => {
    const { app, agent } = await setup({ model: stuck });
    const res = await app.request("/chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"message":"hi"}',
    });
    const text = res.text();
    await tick();
    await agent.drain(Date.now() + 20);
    const body = await text;
    assert.match(body, /event: error\ndata: (.*)\n/);
    const data = JSON.parse(/event: error\ndata: (.*)\n/.exec(body)![1]!) as {
      status: number;
      code: string;
    };
    assert.equal(data.status, 503);
    assert.equal(data.code, "shutting_down");
  });
});

describe("DNS rebinding and other sites' pages: Host on loopback, Origin always (as the mcp-server)", () => {
  const ask = (
    app: { request(url: string, init?: RequestInit): Response | Promise<Response> },
    headers: Record<string, string>,
    path = "/chat",
  ): Promise<Response> =>
    Promise.resolve(
      app.request(`http://127.0.0.1:8080${path}`, {
        ...(path === "/chat"
          ? { method: "POST", body: JSON.stringify({ message: "What is 100 USD in EUR?" }) }
          : {}),
        headers: { "content-type": "application/json", ...headers },
      }),
    );
  const evil = { origin: "http://evil.example:8080" };

  it("on loopback, refuses a rebound DNS name (foreign Host) and a foreign Origin with 403 JSON", async () => {
    const model = new MemoryProbe();
    const { app } = await setup({ model });
    for (const [headers, refused] of [
      [{ host: "evil.example:8080" }, "Invalid Host: evil.example"],
      // What a page on a rebound name sends: its own name twice, same-origin to the browser.
      [{ host: "evil.example:8080", ...evil }, "Invalid Host: evil.example"],
      [{ host: "127.0.0.1:8080", ...evil }, "Invalid Origin: evil.example"],
      [{ origin: "null" }, "Invalid Origin header: null"],
    ] as const) {
      for (const path of ["/chat", "/"]) {
        const res = await ask(app, headers, path);
        assert.equal(res.status, 403, `${path} ${JSON.stringify(headers)}`);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, "host_not_allowed");
        assert.ok(body.error.message.startsWith(`${refused}: `), body.error.message);
        assert.match(body.error.message, /AGENT_ALLOWED_HOSTS/);
        assert.equal(res.headers.get("connection"), "close", "the unread body is not reused");
      }
    }
    assert.equal(model.seen.length, 0, "no model call for a refused request");
  });

  it("on loopback, answers loopback names (the page is same-origin) and AGENT_ALLOWED_HOSTS", async () => {
    const { app } = await setup({ env: { AGENT_ALLOWED_HOSTS: "agent.tunnel.example:443" } });
    const same: Array<Record<string, string>> = [
      {},
      { host: "localhost:8080", origin: "http://localhost:8080" },
      { host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" },
      { host: "[::1]:8080", origin: "http://[::1]:8080" },
      { host: "agent.tunnel.example", origin: "https://agent.tunnel.example" },
    ];
    for (const headers of same) {
      assert.equal((await ask(app, headers)).status, 200, JSON.stringify(headers));
    }
  });

  it("on Cloud Run, Host is the front end's: its own URL's page passes, other Origins do not", async () => {
    const { app } = await setup({ env: { K_SERVICE: "agent", HOST: "0.0.0.0" } });
    const own = { host: "agent-abc-uc.a.run.app" };
    assert.equal((await ask(app, own)).status, 200);
    assert.equal(
      (await ask(app, { ...own, origin: "https://agent-abc-uc.a.run.app" })).status,
      200,
    );
    assert.equal((await ask(app, { ...own, ...evil })).status, 403);
  });

  it("elsewhere off loopback (a container, a VM), Host is the caller's word: only listed Origins", async () => {
    const { app } = await setup({ env: { HOST: "0.0.0.0" } });
    const lan = { host: "192.168.1.5:8080" };
    assert.equal((await ask(app, lan)).status, 200, "curl and scripts send no Origin");
    assert.equal((await ask(app, { ...lan, origin: "http://localhost:8080" })).status, 200);
    assert.equal((await ask(app, { ...lan, origin: "http://192.168.1.5:8080" })).status, 403);
    const listed = await setup({ env: { HOST: "0.0.0.0", AGENT_ALLOWED_HOSTS: "192.168.1.5" } });
    assert.equal(
      (await ask(listed.app, { ...lan, origin: "http://192.168.1.5:8080" })).status,
      200,
    );
  });
});

describe("no internal address or credential in public output", () => {
  const secretUrl = "https://agent-sa:s3cret-pass@mcp.internal.example:8443/sse?key=QUERY-SECRET";
  const queryUrl = "https://mcp.internal.example:8443/sse?key=QUERY-SECRET";

  it("refuses a URL with credentials at start-up, naming the variable and not the secret", () => {
    for (const name of [
      "MCP_SERVER_URL",
      "GOOGLE_GEMINI_BASE_URL",
      "GOOGLE_VERTEX_BASE_URL",
      "IAP_KEYS_URL",
    ]) {
      assert.throws(
        () => loadConfig({ [name]: secretUrl }),
        (e: Error) =>
          new RegExp(`${name}: must not carry credentials`).test(e.message) &&
          !/s3cret|agent-sa|QUERY-SECRET/.test(e.message),
        name,
      );
      assert.throws(() => loadConfig({ [name]: "https://only-user@x.example/mcp" }), name);
    }
  });

  it("shows only the MCP server's origin at GET / and no query in the listening line", async () => {
    const { app, agent } = await setup({ mcpUrl: queryUrl });
    const info = (await (await app.request("/")).json()) as Record<string, unknown>;
    assert.equal(info.mcp_server_url, "https://mcp.internal.example:8443");
    assert.doesNotMatch(JSON.stringify(info), /QUERY-SECRET/);
    assert.equal(
      agent.summary.mcp_server_url,
      "https://mcp.internal.example:8443/sse (query removed)",
    );
    assert.doesNotMatch(JSON.stringify(agent.summary), /QUERY-SECRET/);
  });

  it("words a 503 without the server's address, says what to do, and logs no userinfo or query", async () => {
    const lines: string[] = [];
    const down: ToolHost = {
      listTools: async () => {
        throw mcpError(
          503,
          `The MCP server at http://10.20.30.40:8081 cannot be reached (fetch ${secretUrl} failed: connect ECONNREFUSED 10.20.30.40:8081)`,
        );
      },
      callTool: async () => ({ isError: true, text: "" }),
    };
    const { app } = await setup({ tools: down, logger: createLogger({}, (l) => lines.push(l)) });
    for (const path of ["/chat", "/ready"]) {
      const res = await app.request(
        path,
        path === "/chat"
          ? {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: '{"message":"hi"}',
            }
          : {},
      );
      assert.equal(res.status, 503, path);
      const text = await res.text();
      assert.doesNotMatch(text, /10\.20\.30\.40|8081|mcp\.internal|s3cret|QUERY-SECRET/, path);
      assert.match(text, /try again/, path);
    }
    assert.ok(lines.length > 0);
    assert.doesNotMatch(lines.join("\n"), /s3cret|QUERY-SECRET|agent-sa/);
  });
});

describe("over a real socket", () => {
  const lines: Array<Record<string, unknown>> = [];
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    const { app } = await setup({ logger: createLogger({}, (l) => lines.push(JSON.parse(l))) });
    server = await listen(app.fetch);
  });
  after(async () => server?.close());

  it("answers 413 with Connection: close, so Node's fetch never reuses a connection the server drops", async () => {
    const r = await oversizeThenReuse(`${server.url}/chat`, 2 * 1024 * 1024, () =>
      fetch(`${server.url}/health`),
    );
    assert.deepEqual(r.failures, []);
    assert.deepEqual([...new Set(r.statuses)].sort(), [200, 413]);
    assert.deepEqual([...new Set(r.connection)], ["close"]);
  });

  it("logs a malformed chunked body as WARNING 400, not ERROR 500", async () => {
    lines.length = 0;
    const reply = await rawRequest(
      server.port,
      `POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mes\r\nZZZ\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 400 /);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.length > 0, "the failure is logged");
    assert.deepEqual(
      lines.map((l) => [l.severity, l.status]),
      [["WARNING", 400]],
    );
  });
});
