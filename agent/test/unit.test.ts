import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "../../common/log.js";
import {
  buildAgent,
  chat,
  FakeTools,
  memoryStore,
  post,
  ScriptedModel,
  turn,
  turnDeps,
} from "../../test/support/agent.js";
import { DEFAULT_INSTRUCTION, loadConfig } from "../src/config.js";
import { mcpError } from "../src/errors.js";
import { MAX_BODY_BYTES } from "../src/http/index.js";
import { modelError, type Model } from "../src/models/types.js";
import { KeyedMutex, MemorySessionStore, type SessionStore } from "../src/sessions/index.js";
import { MAX_TOOL_ROUNDS, type ToolHost } from "../src/turn/index.js";

const CONVERT = {
  name: "get_exchange_rate",
  args: { currency_from: "USD", currency_to: "EUR", currency_date: "latest", amount: 1 },
};

/** A model that converts once, then says what the tool answered. */
const converting = (): ScriptedModel =>
  new ScriptedModel([
    { functionCalls: [CONVERT] },
    async (req) => {
      const last = req.contents.at(-1)!.parts[0]!;
      const out = "functionResponse" in last ? JSON.stringify(last.functionResponse.response) : "";
      return { text: `The tool said ${out}` };
    },
  ]);

function setup(
  model: Model = converting(),
  tools: ToolHost = new FakeTools(),
  store: SessionStore = memoryStore(),
) {
  return buildAgent({ model, tools, store, newSessionId: () => "generated-session" });
}
describe("HTTP surface", async () => {
  const { app } = await setup();

  it("describes the service at / and answers /health without outbound calls", async () => {
    const info = (await (await app.request("/")).json()) as Record<string, unknown>;
    assert.equal(info.model, "scripted");
    assert.equal(info.transport, "streamable-http");
    assert.deepEqual(await (await app.request("/health")).json(), { status: "ok" });
  });

  it("runs a turn and returns the contract's fields, with a new session id", async () => {
    const res = await app.request(
      "/chat",
      post(JSON.stringify({ message: "What is 1 USD in EUR?" })),
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.session_id, "generated-session");
    assert.equal(body.user_id, "anonymous");
    assert.match(String(body.response), /"EUR":0\.9/);
    assert.deepEqual(body.tool_calls, [
      {
        name: "get_exchange_rate",
        arguments: CONVERT.args,
        is_error: false,
        result: "1 USD = 0.9 EUR",
      },
    ]);
  });

  const bad: Array<[string, RequestInit, number, string, RegExp]> = [
    ["invalid JSON", post("{nope"), 400, "invalid_json", /not valid JSON/],
    ["not an object", post("[1,2]"), 400, "invalid_request", /JSON object/],
    ["missing message", post("{}"), 400, "invalid_request", /message is required/],
    [
      "non-string message",
      post('{"message": 42}'),
      400,
      "invalid_request",
      /message must be a string/,
    ],
    ["empty message", post('{"message": "   "}'), 400, "invalid_request", /must not be empty/],
    [
      "over-long message",
      post(JSON.stringify({ message: "x".repeat(9000) })),
      400,
      "invalid_request",
      /at most 8000/,
    ],
    [
      "unsafe session id",
      post('{"message": "hi", "session_id": "../etc"}'),
      400,
      "invalid_request",
      /session_id/,
    ],
    [
      "unsafe user id",
      post('{"message": "hi", "user_id": "a b"}'),
      400,
      "invalid_request",
      /user_id/,
    ],
    [
      "wrong content type",
      post('{"message":"hi"}', { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
      /application\/json/,
    ],
    [
      "JSON text sequences (application/json-seq)",
      post('{"message":"hi"}', { "content-type": "application/json-seq" }),
      415,
      "unsupported_media_type",
      /application\/json/,
    ],
    [
      "a +json type",
      post('{"message":"hi"}', { "content-type": "application/merge-patch+json" }),
      415,
      "unsupported_media_type",
      /application\/json/,
    ],
    [
      "huge body",
      post(JSON.stringify({ message: "x".repeat(MAX_BODY_BYTES + 10) })),
      413,
      "payload_too_large",
      /at most/,
    ],
  ];
  for (const [name, init, status, code, message] of bad) {
    it(`answers ${status} for ${name}, as JSON without a stack`, async () => {
      const res = await app.request("/chat", init);
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code);
      assert.match(body.error.message, message);
      assert.doesNotMatch(JSON.stringify(body), /at .*\.(ts|js|mjs):\d+/);
    });
  }

  it("takes application/json with parameters, in any case", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]) {
      const res = await app.request("/chat", post('{"message":"hi"}', { "content-type": type }));
      assert.equal(res.status, 200, type);
    }
  });

  it("answers 404 as JSON for unknown routes", async () => {
    const res = await app.request("/nope");
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not_found");
  });

  it("streams the turn's events", async () => {
    const { app } = await setup();
    const res = await app.request(
      "/chat/stream",
      post(JSON.stringify({ message: "10 EUR to USD", session_id: "s-1" })),
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = [...(await res.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(events, ["session", "tool_call", "tool_result", "text", "done"]);
  });

  it("stops the turn when the stream's client goes away", async () => {
    let seen: AbortSignal | undefined;
    const model = new ScriptedModel([
      (req) =>
        new Promise((_, reject) => {
          seen = req.signal;
          req.signal?.addEventListener("abort", () => reject(req.signal!.reason));
        }),
    ]);
    const { app } = await setup(model);
    const client = new AbortController();
    const res = await app.request("/chat/stream", {
      ...post('{"message":"hi"}'),
      signal: client.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the session event: the turn is under way
    while (!seen) await new Promise((r) => setTimeout(r, 5));
    await reader.cancel();
    client.abort();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.aborted, true, "the model call was cancelled");
  });

  it("rejects bad stream input with a JSON 4xx before streaming", async () => {
    const res = await app.request("/chat/stream", post("{"));
    assert.equal(res.status, 400);
  });

  it("marks every answer X-Content-Type-Options: nosniff, errors and streams included", async () => {
    const { app } = await setup();
    const answers = {
      "GET /": await app.request("/"),
      "GET /health": await app.request("/health"),
      "GET /nope (404)": await app.request("/nope"),
      "POST /chat (200)": await app.request("/chat", post('{"message":"1 USD in EUR"}')),
      "POST /chat (400)": await app.request("/chat", post("{")),
      "POST /chat/stream": await app.request("/chat/stream", post('{"message":"1 USD in EUR"}')),
    };
    for (const [what, res] of Object.entries(answers)) {
      await res.arrayBuffer();
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
    }
  });
});

describe("upstream failures", () => {
  it("words model failures for the caller (503) and logs the detail", async () => {
    const lines: string[] = [];
    const model = new ScriptedModel([
      modelError(
        503,
        "The model is unavailable right now; try again shortly",
        "HTTP 503 from upstream",
      ),
    ]);
    const { app } = await buildAgent({
      model,
      tools: new FakeTools(),
      logger: createLogger({}, (l) => lines.push(l)),
    });
    const res = await app.request("/chat", post('{"message":"hi"}'));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      error: {
        code: "model_unavailable",
        message: "The model is unavailable right now; try again shortly",
      },
    });
    assert.match(lines.join("\n"), /HTTP 503 from upstream/);
  });

  it("answers 502 when the MCP server refuses the agent, 503 on /ready", async () => {
    const tools: ToolHost = {
      listTools: async () =>
        Promise.reject(
          mcpError(502, "The MCP server at https://x refused the agent's credentials (HTTP 401)"),
        ),
      callTool: async () => ({ isError: true, text: "" }),
    };
    const { app } = await setup(new ScriptedModel([]), tools);
    const res = await app.request("/chat", post('{"message":"hi"}'));
    assert.equal(res.status, 502);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /HTTP 401/);
    const ready = await app.request("/ready");
    assert.equal(ready.status, 503);
  });

  it("streams an error event when the turn fails", async () => {
    const { app } = await setup(
      new ScriptedModel([modelError(502, "The model rejected the request (HTTP 400)")]),
    );
    const text = await (await app.request("/chat/stream", post('{"message":"hi"}'))).text();
    assert.match(text, /event: error\ndata: .*model_unavailable/);
  });
});

describe("chat loop", () => {
  it("sends tool failures back to the model as a functionResponse error", async () => {
    const tools = new FakeTools(async () => ({ isError: true, text: "Unknown currency XYZ" }));
    const model = new ScriptedModel([
      { functionCalls: [{ name: "get_exchange_rate", args: { currency_to: "XYZ" } }] },
      { text: "That currency is unknown." },
    ]);
    const r = await turn(turnDeps(model, tools), { userId: "u", sessionId: "s" }, "XYZ?");
    assert.equal(r.response, "That currency is unknown.");
    assert.deepEqual(
      r.toolCalls.map((c) => c.is_error),
      [true],
    );
    const last = model.requests[1]!.contents.at(-1)!;
    assert.deepEqual(last.parts, [
      {
        functionResponse: {
          name: "get_exchange_rate",
          response: { error: "Unknown currency XYZ" },
        },
      },
    ]);
    assert.equal(model.requests[0]!.tools.length, 1, "tools are declared to the model");
  });

  it("turns a thrown tool call into an error for the model, not a failed turn", async () => {
    const tools = new FakeTools(async () => Promise.reject(new Error("socket hang up")));
    const model = new ScriptedModel([
      { functionCalls: [{ name: "get_exchange_rate", args: {} }] },
      { text: "The tool is down." },
    ]);
    const r = await turn(turnDeps(model, tools), { userId: "u", sessionId: "s" }, "rate?");
    assert.equal(r.response, "The tool is down.");
    assert.match(r.toolCalls[0]!.result ?? "", /socket hang up/);
  });

  it(`stops after ${MAX_TOOL_ROUNDS} rounds of tool calls`, async () => {
    const looping = Array.from({ length: 10 }, () => ({
      functionCalls: [{ name: "get_exchange_rate", args: {} }],
    }));
    const tools = new FakeTools();
    const r = await turn(
      turnDeps(new ScriptedModel(looping), tools),
      { userId: "u", sessionId: "s" },
      "loop",
    );
    assert.equal(tools.calls.length, MAX_TOOL_ROUNDS);
    assert.match(r.response, /stopped after 5 rounds/);
  });

  it("keeps the conversation per (user, session): a second turn sees the first", async () => {
    const model = new ScriptedModel([{ text: "one" }, { text: "two" }, { text: "other" }]);
    const deps = turnDeps(model);
    await turn(deps, { userId: "u", sessionId: "s" }, "first");
    await turn(deps, { userId: "u", sessionId: "s" }, "second");
    await turn(deps, { userId: "v", sessionId: "s" }, "elsewhere");
    assert.deepEqual(
      model.requests[1]!.contents.map((c) => c.parts[0]),
      [{ text: "first" }, { text: "one" }, { text: "second" }],
    );
    assert.equal(
      model.requests[2]!.contents.length,
      1,
      "another user's session with the same id is separate",
    );
  });

  it("serialises turns on one session and runs different sessions in parallel", async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const model = new ScriptedModel([
      async (req) => {
        order.push(`start:${JSON.stringify(req.contents.at(-1)!.parts[0])}`);
        await gate;
        return { text: "a" };
      },
      async (req) => {
        order.push(`start:${JSON.stringify(req.contents.at(-1)!.parts[0])}`);
        return { text: "b" };
      },
      async (req) => {
        order.push(`start:${JSON.stringify(req.contents.at(-1)!.parts[0])}`);
        return { text: "c" };
      },
    ]);
    const deps = turnDeps(model);
    const first = turn(deps, { userId: "u", sessionId: "same" }, "1");
    const second = turn(deps, { userId: "u", sessionId: "same" }, "2");
    const other = turn(deps, { userId: "u", sessionId: "other" }, "3");
    await other;
    assert.deepEqual(
      order,
      ['start:{"text":"1"}', 'start:{"text":"3"}'],
      "the other session did not wait; the same one did",
    );
    release();
    await Promise.all([first, second]);
    assert.equal(order.at(-1), 'start:{"text":"2"}');
    assert.equal(
      model.requests.find(
        (r) => JSON.stringify(r.contents.at(-1)) === '{"role":"user","parts":[{"text":"2"}]}',
      )!.contents.length,
      3,
    );
  });

  it("does not save a turn that failed", async () => {
    const store = memoryStore();
    await assert.rejects(
      turn(
        turnDeps(new ScriptedModel([modelError(503, "down")]), new FakeTools(), store),
        { userId: "u", sessionId: "s" },
        "hi",
      ),
    );
    assert.deepEqual(await store.load({ app: "test", userId: "u", sessionId: "s" }), []);
  });
});

describe("session store", () => {
  const key = (s: string) => ({ app: "a", userId: "u", sessionId: s });
  const msg = (t: string, role: "user" | "model" = "user") => ({ role, parts: [{ text: t }] });

  it("expires idle sessions after the TTL", async () => {
    let now = 0;
    const store = new MemorySessionStore({
      ttlMs: 1000,
      maxSessions: 10,
      maxMessages: 10,
      now: () => now,
    });
    await store.save(key("s"), [msg("hi")]);
    now = 999;
    assert.equal((await store.load(key("s"))).length, 1);
    now = 2001;
    assert.deepEqual(await store.load(key("s")), []);
    await store.save(key("t"), [msg("x")]);
    now = 5000;
    store.sweep();
    assert.equal(store.size, 0);
  });

  it("holds at most maxSessions, dropping the least recently used", async () => {
    const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 3, maxMessages: 10 });
    for (const s of ["a", "b", "c"]) await store.save(key(s), [msg(s)]);
    await store.save(key("a"), [msg("a"), msg("again", "model")]);
    await store.save(key("d"), [msg("d")]);
    assert.equal(store.size, 3);
    assert.deepEqual(await store.load(key("b")), [], "b was the least recently used");
    assert.equal((await store.load(key("a"))).length, 2);
  });

  it("KeyedMutex keeps running after a failed task", async () => {
    const m = new KeyedMutex();
    await assert.rejects(m.run("k", async () => Promise.reject(new Error("x"))));
    assert.equal(await m.run("k", async () => 7), 7);
  });
});

describe("make it yours", () => {
  it("sends the instruction from AGENT_INSTRUCTION, or from AGENT_INSTRUCTION_FILE, to the model", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "instruction-"));
    const file = path.join(dir, "instruction.md");
    await writeFile(file, "You answer questions about trains.");
    for (const [env, expected] of [
      [{}, DEFAULT_INSTRUCTION],
      [{ AGENT_INSTRUCTION: "You are a weather agent." }, "You are a weather agent."],
      [{ AGENT_INSTRUCTION_FILE: file }, "You answer questions about trains."],
    ] as const) {
      const model = new ScriptedModel([{ text: "ok" }]);
      const { app } = await buildAgent({ model, tools: new FakeTools() }, env);
      assert.equal((await chat(app, { message: "hi" })).status, 200);
      assert.equal(model.requests[0]!.system, expected);
    }
  });

  it("shows APP_NAME and which instruction runs at GET / (source, fingerprint, length), never its text", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "instruction-"));
    const file = path.join(dir, "trains.md");
    const trains = "You answer questions about trains 🚆.\n";
    await writeFile(file, trains);
    const defaults = {
      source: "default",
      fingerprint: createHash("sha256").update(DEFAULT_INSTRUCTION).digest("hex").slice(0, 8),
      chars: DEFAULT_INSTRUCTION.length,
    };
    // The figures `sha256sum trains.md | cut -c1-8` and `wc -m < trains.md` give (the emoji is one
    // character, two UTF-16 units), and `printf %s "$AGENT_INSTRUCTION" | sha256sum` for the inline one.
    for (const [env, expected, text] of [
      [{}, defaults, DEFAULT_INSTRUCTION],
      [
        { AGENT_INSTRUCTION: "Weather only." },
        { source: "AGENT_INSTRUCTION", fingerprint: "851e6127", chars: 13 },
        "Weather only.",
      ],
      [
        { AGENT_INSTRUCTION_FILE: file, APP_NAME: "train-agent" },
        { source: "trains.md", fingerprint: "97a14939", chars: 37 },
        trains,
      ],
    ] as const) {
      const { app, summary } = await buildAgent(
        { model: new ScriptedModel(), tools: new FakeTools() },
        env,
      );
      const info = (await (await app.request("/")).json()) as Record<string, unknown>;
      assert.deepEqual(info.instruction, expected);
      assert.deepEqual(summary.instruction, expected, "the listening line says the same");
      assert.equal(info.app_name, "APP_NAME" in env ? env.APP_NAME : "currency-agent");
      assert.equal(summary.app_name, info.app_name);
      const shown = JSON.stringify([info, summary]);
      assert.ok(!shown.includes(text.slice(0, 12)), "no text at GET / or in the listening line");
      assert.ok(!shown.includes(dir), "the file's name, not its path");
    }
  });

  it("refuses an instruction that cannot be used with one line naming the setting", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "instruction-"));
    const empty = path.join(dir, "empty.md");
    await writeFile(empty, " \n");
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { AGENT_INSTRUCTION_FILE: path.join(dir, "missing.md") },
        /^Invalid configuration: AGENT_INSTRUCTION_FILE: cannot be read \(ENOENT: .*missing\.md'\)$/,
      ],
      [
        { AGENT_INSTRUCTION_FILE: dir },
        /^Invalid configuration: AGENT_INSTRUCTION_FILE: cannot be read \(EISDIR/,
      ],
      [
        { AGENT_INSTRUCTION_FILE: empty },
        /^Invalid configuration: AGENT_INSTRUCTION_FILE: .*empty\.md is empty; /,
      ],
      [{ AGENT_INSTRUCTION: "  " }, /^Invalid configuration: AGENT_INSTRUCTION: is blank; /],
      [
        { AGENT_INSTRUCTION: "Weather only.", AGENT_INSTRUCTION_FILE: empty },
        /^Invalid configuration: AGENT_INSTRUCTION_FILE: cannot be combined with AGENT_INSTRUCTION; set one of them$/,
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: Error) => {
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /\n/, "one line");
          return true;
        },
      );
    }
  });
});

describe("config", () => {
  it("has the documented defaults and derives transport, auth and model", () => {
    const c = loadConfig({});
    assert.equal(c.PORT, 8080);
    assert.equal(c.MCP_SERVER_URL, "http://127.0.0.1:8081/mcp");
    assert.equal(c.transport, "streamable-http");
    assert.equal(c.useIdToken, false);
    assert.equal(c.model, "offline");
    assert.equal(c.GOOGLE_MODEL, "gemini-3.8-flash");
    assert.equal(c.GOOGLE_CLOUD_LOCATION, "global");
    assert.equal(c.GOOGLE_THINKING_LEVEL, "low");
    assert.equal(c.GOOGLE_TEMPERATURE, undefined);
    assert.throws(() => loadConfig({ GOOGLE_THINKING_LEVEL: "extreme" }), /GOOGLE_THINKING_LEVEL/);
    assert.equal(
      loadConfig({ GOOGLE_GENAI_USE_ENTERPRISE: "true", GOOGLE_CLOUD_PROJECT: "p" }).model,
      "gemini",
    );
    const cloud = loadConfig({
      MCP_SERVER_URL: "https://mcp-server-abc-uc.a.run.app/mcp",
      GOOGLE_GENAI_USE_VERTEXAI: "true",
      GOOGLE_CLOUD_PROJECT: "my-project",
    });
    assert.equal(cloud.transport, "streamable-http");
    assert.equal(cloud.useIdToken, true);
    assert.equal(cloud.audience, "https://mcp-server-abc-uc.a.run.app");
    assert.equal(cloud.model, "gemini");
    assert.equal(loadConfig({ GOOGLE_API_KEY: "k", MODEL_PROVIDER: "offline" }).model, "offline");
    assert.equal(
      loadConfig({ MCP_SERVER_URL: "http://x/custom", MCP_TRANSPORT: "sse" }).transport,
      "sse",
    );
  });
  it("names what is wrong", () => {
    assert.throws(() => loadConfig({ MCP_SERVER_URL: "not a url" }), /MCP_SERVER_URL/);
    assert.throws(() => loadConfig({ MCP_SERVER_URL: "http://x/elsewhere" }), /MCP_TRANSPORT/);
    assert.throws(() => loadConfig({ MODEL_PROVIDER: "gemini" }), /GOOGLE_API_KEY/);
    assert.throws(() => loadConfig({ MCP_AUTH: "basic" }), /MCP_AUTH/);
  });
});
