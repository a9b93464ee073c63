// Both bundles as real processes, the Frankfurter stand-in upstream, over both MCP transports.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "../../test/support/frankfurter.js";
import { startGemini, type FakeGemini } from "../../test/support/gemini.js";
import { startMetadataServer, type MetadataServer } from "../../test/support/metadata-server.js";
import {
  bundlePath,
  freePort,
  runCommand,
  startService,
  type RunningService,
} from "../../test/support/service.js";
import { chat } from "../../test/support/agent.js";

const expected = String(expectedConversion("USD", "EUR", 100));

describe("agent + mcp-server", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let mcpPort: number;
  const agents: RunningService[] = [];
  before(async () => {
    upstream = await startFrankfurter();
    mcpPort = await freePort();
    mcp = await startService("mcp-server", {
      PORT: String(mcpPort),
      FRANKFURTER_URL: upstream.url,
    });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await mcp?.stop();
    await upstream?.close();
  });

  for (const [transport, path] of [
    ["SSE", "/sse"],
    ["Streamable HTTP", "/mcp"],
  ] as const) {
    describe(`over ${transport}`, () => {
      let agent: RunningService;
      before(async () => {
        agent = await startService("agent", {
          MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}${path}`,
          MODEL_PROVIDER: "offline",
        });
        agents.push(agent);
      });

      it("is ready once the MCP server lists its tools", async () => {
        const res = await fetch(`${agent.url}/ready`);
        assert.equal(res.status, 200);
        const body = (await res.json()) as {
          tools: string[];
          transport: string;
          protocol_version: string;
        };
        assert.deepEqual(body.tools.sort(), [
          "get_exchange_rate",
          "get_exchange_rate_history",
          "list_currencies",
        ]);
        // Over /mcp the agent speaks the 2026-07-28 revision the server offers; SSE is a 2025-era transport.
        const version = path === "/mcp" ? "2026-07-28" : "2025-11-25";
        assert.equal(body.protocol_version, version);
        assert.equal(body.transport, path === "/mcp" ? "streamable-http" : "sse");
        const info = (await (await fetch(`${agent.url}/`)).json()) as {
          mcp_protocol_version: string;
        };
        assert.equal(info.mcp_protocol_version, version);
      });

      it('answers "What is 100 USD in EUR?" with the served rate', async () => {
        const r = await chat(agent, { message: "What is 100 USD in EUR?", user_id: "alice" });
        assert.equal(r.status, 200);
        assert.ok(r.body.response.includes(`100 USD = ${expected} EUR`), r.body.response);
        assert.equal(r.body.user_id, "alice");
        assert.match(r.body.session_id, /^[0-9a-f-]{36}$/);
        assert.equal(r.body.tool_calls[0]!.name, "get_exchange_rate");
      });

      it("still answers after the MCP server is killed and restarted between turns", async () => {
        assert.equal((await chat(agent, { message: "5 USD to GBP" })).status, 200);
        await mcp.stop("SIGKILL");
        mcp = await startService("mcp-server", {
          PORT: String(mcpPort),
          FRANKFURTER_URL: upstream.url,
        });
        const r = await chat(agent, { message: "What is 100 USD in EUR?" });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.ok(r.body.response.includes(expected), r.body.response);
      });
    });
  }

  it("shows the negotiated MCP protocol version at GET / before any chat, null while unknown", async () => {
    const info = async (a: RunningService) =>
      ((await (await fetch(`${a.url}/`)).json()) as { mcp_protocol_version: string | null })
        .mcp_protocol_version;
    const nowhere = await startService("agent", {
      MCP_SERVER_URL: `http://127.0.0.1:${await freePort()}/mcp`,
      MODEL_PROVIDER: "offline",
    });
    agents.push(nowhere);
    assert.equal(await info(nowhere), null, "starts, and says null, with no MCP server");
    const agent = await startService("agent", {
      MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}/mcp`,
      MODEL_PROVIDER: "offline",
    });
    agents.push(agent);
    let version = await info(agent);
    for (let i = 0; i < 50 && version === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      version = await info(agent);
    }
    assert.equal(version, "2026-07-28");
  });

  it("reports an MCP server that is down as 503, then recovers", async () => {
    const agent = await startService("agent", {
      MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}/sse`,
      MODEL_PROVIDER: "offline",
      MCP_TOOL_TIMEOUT_MS: "3000",
    });
    agents.push(agent);
    await mcp.stop("SIGKILL");
    const down = await chat(agent, { message: "What is 100 USD in EUR?" });
    assert.equal(down.status, 503);
    assert.equal(down.body.error!.code, "mcp_unavailable");
    // The MCP server is what is down, not the exchange-rate source behind it.
    assert.match(down.body.error!.message, /MCP server/);
    assert.doesNotMatch(down.body.error!.message, /exchange-rate|Frankfurter|rate source/i);
    assert.equal((await fetch(`${agent.url}/ready`)).status, 503);
    mcp = await startService("mcp-server", {
      PORT: String(mcpPort),
      FRANKFURTER_URL: upstream.url,
    });
    assert.equal((await chat(agent, { message: "What is 100 USD in EUR?" })).status, 200);
  });

  it("says not ready as soon as the MCP server is down, though it listed the tools before", async () => {
    const agent = await startService("agent", {
      MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}/mcp`,
      MODEL_PROVIDER: "offline",
    });
    agents.push(agent);
    assert.equal((await chat(agent, { message: "What is 100 USD in EUR?" })).status, 200);
    assert.equal((await fetch(`${agent.url}/ready`)).status, 200);
    await mcp.stop("SIGKILL");
    const ready = await fetch(`${agent.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(
      ((await ready.json()) as { error: { code: string } }).error.code,
      "mcp_unavailable",
    );
    mcp = await startService("mcp-server", {
      PORT: String(mcpPort),
      FRANKFURTER_URL: upstream.url,
    });
    assert.equal((await fetch(`${agent.url}/ready`)).status, 200);
  });

  describe("with Gemini (local generateContent server)", () => {
    let gemini: FakeGemini;
    let agent: RunningService;
    before(async () => {
      gemini = await startGemini();
      agent = await startService("agent", {
        MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}/mcp`,
        GOOGLE_API_KEY: "test-key",
        GOOGLE_GEMINI_BASE_URL: gemini.url,
      });
      agents.push(agent);
    });
    after(async () => gemini?.close());

    // A conversation continues with the id the agent returned (a public agent issues its own ids).
    let conversation = "";
    it("names the model at / and runs the tool the model asks for", async () => {
      assert.equal(
        ((await (await fetch(agent.url)).json()) as { model: string }).model,
        "gemini-3.8-flash",
      );
      const r = await chat(agent, { message: "100 USD EUR" });
      assert.equal(r.status, 200);
      conversation = r.body.session_id;
      assert.equal(
        r.body.response,
        `100 USD is ${expected} EUR (rate of ${r.body.tool_calls[0] && /\d{4}-\d{2}-\d{2}/.exec(r.body.tool_calls[0]!.result ?? "")?.[0]}).`,
      );
    });

    it("sends the first turn with the second, in the same session", async () => {
      gemini.script({ parts: [{ text: "You asked about USD and EUR before." }] });
      const before = gemini.requests.length;
      const r = await chat(agent, { message: "What did I ask?", session_id: conversation });
      assert.equal(r.body.response, "You asked about USD and EUR before.");
      const contents = gemini.requests[before]!.body.contents;
      assert.deepEqual(contents[0], { role: "user", parts: [{ text: "100 USD EUR" }] });
      assert.equal(contents.length, 5, "user, call, response, answer, new question");
    });

    it("streams the answer's words over /chat/stream, after the tool result", async () => {
      const res = await fetch(`${agent.url}/chat/stream`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
      });
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      const events = [...(await res.text()).matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({
        type: m[1]!,
        data: JSON.parse(m[2]!) as Record<string, any>,
      }));
      const types = events.map((e) => e.type);
      assert.deepEqual(types.slice(0, 3), ["session", "tool_call", "tool_result"]);
      assert.equal(types.at(-1), "done");
      const texts = events.filter((e) => e.type === "text").map((e) => e.data.text as string);
      assert.ok(texts.length > 3, `the words came in pieces: ${texts.length}`);
      assert.equal(texts.join(""), events.at(-1)!.data.response);
      assert.match(events.at(-1)!.data.response, new RegExp(`^100 USD is ${expected} EUR`));
    });
  });
});

describe("agent → mcp-server with Google ID tokens", () => {
  const invoker = "agent@my-project.iam.gserviceaccount.com";
  let upstream: FakeFrankfurter;
  let metadata: MetadataServer;
  let mcp: RunningService;
  const started: RunningService[] = [];
  const audience = "https://mcp-server.example.run.app";
  const agentEnv = (md: MetadataServer, extra: Record<string, string> = {}) => ({
    MCP_SERVER_URL: `${mcp.url}/mcp`,
    MODEL_PROVIDER: "offline",
    MCP_AUTH: "id-token",
    MCP_AUDIENCE: audience,
    GCE_METADATA_HOST: md.host,
    METADATA_SERVER_DETECTION: "assume-present",
    ...extra,
  });
  before(async () => {
    upstream = await startFrankfurter();
    metadata = await startMetadataServer({ email: invoker, tokenLifetimeSeconds: 2 });
    mcp = await startService("mcp-server", {
      FRANKFURTER_URL: upstream.url,
      MCP_SERVER_AUTH: "google-id-token",
      MCP_AUTH_AUDIENCE: audience,
      MCP_ALLOWED_INVOKERS: invoker,
      MCP_AUTH_CERTS_URL: metadata.certsUrl,
    });
  });
  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await mcp?.stop();
    await metadata?.close();
    await upstream?.close();
  });

  it("fetches ID tokens from the metadata server and refreshes them after expiry", async () => {
    const agent = await startService("agent", agentEnv(metadata));
    started.push(agent);
    const first = await chat(agent, { message: "What is 100 USD in EUR?" });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(first.body.response.includes(expected));
    const minted = metadata.identityRequests.length;
    assert.ok(minted >= 1);
    assert.ok(metadata.identityRequests.every((a) => a === audience));
    await new Promise((r) => setTimeout(r, 2500)); // the 2-second token has expired
    const second = await chat(agent, { message: "What is 100 USD in EUR?" });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.ok(metadata.identityRequests.length > minted, "a fresh token was minted");
    assert.ok(!agent.output().includes("eyJ"), "no token in the agent's logs");
  });

  it("reports a missing token (401) clearly", async () => {
    const agent = await startService("agent", {
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "offline",
      MCP_AUTH: "none",
    });
    started.push(agent);
    const r = await chat(agent, { message: "What is 100 USD in EUR?" });
    assert.equal(r.status, 502);
    assert.match(r.body.error!.message, /refused the agent's credentials \(HTTP 401\)/);
  });

  it("reports a wrong audience (401) and an account that is not allowed (403)", async () => {
    const wrongAud = await startMetadataServer({
      email: invoker,
      signer: metadata.signer,
      audienceOverride: "https://elsewhere.run.app",
    });
    const intruder = await startMetadataServer({
      email: "intruder@other.iam.gserviceaccount.com",
      signer: metadata.signer,
    });
    try {
      const a = await startService("agent", agentEnv(wrongAud));
      const b = await startService("agent", agentEnv(intruder));
      started.push(a, b);
      const ra = await chat(a, { message: "What is 100 USD in EUR?" });
      assert.equal(ra.status, 502);
      assert.match(ra.body.error!.message, /HTTP 401/);
      const rb = await chat(b, { message: "What is 100 USD in EUR?" });
      assert.equal(rb.status, 502);
      assert.match(rb.body.error!.message, /does not allow this agent \(HTTP 403\).*run\.invoker/);
    } finally {
      await wrongAud.close();
      await intruder.close();
    }
  });
});

describe("the agent over Frankfurter v2: currencies beyond the ECB's", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  const agents: RunningService[] = [];
  before(async () => {
    upstream = await startFrankfurter();
    const port = await freePort();
    mcp = await startService("mcp-server", { PORT: String(port), FRANKFURTER_URL: upstream.url });
    for (const path of ["/mcp", "/sse"])
      agents.push(
        await startService("agent", {
          MCP_SERVER_URL: `http://127.0.0.1:${port}${path}`,
          MODEL_PROVIDER: "offline",
        }),
      );
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await mcp?.stop();
    await upstream?.close();
  });

  for (const [i, transport] of ["/mcp", "/sse"].entries()) {
    it(`converts AED, ARS and naira, latest and dated, over ${transport}`, async () => {
      const cases: Array<[string, string, string, number, string | undefined]> = [
        ["Convert 500 AED to USD", "AED", "USD", 500, undefined],
        ["250 ARS in GBP on 2024-03-15", "ARS", "GBP", 250, "2024-03-15"],
        ["How much is 1000 naira in euros?", "NGN", "EUR", 1000, undefined],
      ];
      for (const [message, from, to, amount, date] of cases) {
        const r = await chat(agents[i]!, { message });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const value = expectedConversion(from, to, amount, date ? { date } : {});
        assert.ok(
          r.body.response.startsWith(`${amount} ${from} = ${value} ${to}`),
          `${message} => ${r.body.response}`,
        );
        if (date) assert.match(r.body.response, new RegExp(date));
        assert.match(r.body.response, /central banks/);
      }
      const peso = await chat(agents[i]!, { message: "100 pesos to EUR" });
      assert.match(peso.body.response, /^Which peso do you mean/);
      assert.equal(
        peso.body.tool_calls.filter((c: { name: string }) => c.name === "get_exchange_rate").length,
        0,
        "no guess",
      );
    });
  }
});

describe("make it yours, as a process: which instruction runs, and one that cannot", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "instruction-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("names the instruction's source, fingerprint and length on the listening line", async () => {
    const file = path.join(dir, "trains.md");
    await writeFile(file, "You answer questions about trains 🚆.\n");
    const agent = await startService("agent", {
      AGENT_INSTRUCTION_FILE: file,
      APP_NAME: "train-agent",
      MCP_SERVER_URL: `http://127.0.0.1:${await freePort()}/mcp`,
      MODEL_PROVIDER: "offline",
    });
    try {
      const listening = agent.logs().find((l) => /listening/.test(String(l.message)))!;
      assert.equal(listening.app_name, "train-agent");
      // sha256sum trains.md | cut -c1-8; wc -m < trains.md
      assert.deepEqual(listening.instruction, {
        source: "trains.md",
        fingerprint: "97a14939",
        chars: 37,
      });
      assert.doesNotMatch(agent.output(), /questions about trains/, "never the text");
    } finally {
      await agent.stop();
    }
  });

  for (const [what, env] of [
    ["a missing file", { AGENT_INSTRUCTION_FILE: "/nonexistent/instruction.md" }],
    ["both settings", { AGENT_INSTRUCTION: "Hi.", AGENT_INSTRUCTION_FILE: "/etc/hostname" }],
  ] as const) {
    it(`stops on ${what} with exit 1 and one line naming AGENT_INSTRUCTION_FILE, no stack`, async () => {
      const r = await runCommand(process.execPath, [bundlePath("agent")], {
        env: {
          HOST: "127.0.0.1",
          PORT: "0",
          MODEL_PROVIDER: "offline",
          LOG_FORMAT: "json",
          ...env,
        },
        timeoutMs: 15_000,
      });
      assert.equal(r.code, 1, r.out);
      const lines = r.out
        .trim()
        .split("\n")
        .filter((l) => !/"severity":"(INFO|DEBUG)"/.test(l));
      assert.equal(lines.length, 1, r.out);
      const line = JSON.parse(lines[0]!) as { severity: string; message: string };
      assert.equal(line.severity, "ERROR");
      assert.match(line.message, /^Invalid configuration: AGENT_INSTRUCTION_FILE: /);
      assert.doesNotMatch(r.out, /\n\s+at /, "no stack trace");
    });
  }
});
