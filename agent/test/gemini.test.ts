// The real @google/genai client against a Gemini stand-in as strict as Gemini 3 (thought
// signatures, function-response ids, finish reasons, RetryInfo, retired models, streaming).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { silentLogger, type Logger } from "../../common/log.js";
import { buildAgent, memoryStore, RATE_TOOL, turn, turnDeps } from "../../test/support/agent.js";
import { loadConfig } from "../src/config.js";
import { AppError } from "../src/errors.js";
import { GeminiModel, type GeminiOptions } from "../src/models/gemini.js";
import { createModel } from "../src/models/index.js";
import type { Model, ModelRequest } from "../src/models/types.js";
import type { SessionStore } from "../src/sessions/index.js";
import type { ToolHost, TurnDeps, TurnEvent } from "../src/turn/index.js";
import { rateLimited, startGemini, THOUGHTS, type FakeGemini } from "../../test/support/gemini.js";
import { startMetadataServer, type MetadataServer } from "../../test/support/metadata-server.js";

const TOOLS = [RATE_TOOL];
const RATES: Record<string, number> = { EUR: 0.92208, GBP: 0.7893, JPY: 157.12 };
class Tools implements ToolHost {
  calls: Array<Record<string, unknown>> = [];
  async listTools() {
    return TOOLS;
  }
  async callTool(_name: string, args: Record<string, unknown>) {
    this.calls.push(args);
    const to = String(args.currency_to);
    if (!(to in RATES)) return { isError: true, text: `Unknown currency ${to}` };
    const amount = Number(args.amount ?? 1);
    const value = Math.round(amount * RATES[to]! * 1000) / 1000;
    return {
      isError: false,
      text: `${amount} USD = ${value} ${to}`,
      structured: { amount, base: "USD", date: "2025-01-10", rates: { [to]: value } },
    };
  }
}

// The memory store keeps histories as JSON strings, as any shared store does: what survives it is
// what another instance, or a restarted one, sees.
const newStore = (): SessionStore => memoryStore({ maxSessions: 10 });
const chatWith = (
  model: Model,
  tools: ToolHost = new Tools(),
  store: SessionStore = newStore(),
  logger: Logger = silentLogger,
): TurnDeps => turnDeps(model, tools, store, logger);
const user = (text: string): ModelRequest => ({
  system: "s",
  contents: [{ role: "user", parts: [{ text }] }],
  tools: [],
});

describe("Gemini 3 through @google/genai", () => {
  let gemini: FakeGemini;
  let metadata: MetadataServer;
  const saved = { ...process.env };
  const model = (opts: Partial<GeminiOptions> = {}): GeminiModel =>
    new GeminiModel({
      model: "gemini-3.8-flash",
      apiKey: "k",
      baseUrl: gemini.url,
      backoffMs: 5,
      thinkingLevel: "LOW",
      ...opts,
    });
  const since = (n: number) => gemini.requests.slice(n);

  before(async () => {
    gemini = await startGemini();
    metadata = await startMetadataServer();
    // Vertex AI authenticates with ADC: on Cloud Run that is the metadata server.
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.METADATA_SERVER_DETECTION = "assume-present";
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  });
  after(async () => {
    process.env = saved;
    await gemini?.close();
    await metadata?.close();
  });

  describe("the stand-in refuses what Gemini 3 refuses", () => {
    it("a function call sent back without its signature gets the real 400", async () => {
      const n = gemini.requests.length;
      await turn(
        chatWith(model()),
        { userId: "u", sessionId: "strict" },
        "What is 100 USD in EUR?",
      );
      const [first, second] = since(n);
      const call = second!.body.contents[1]!;
      assert.ok(call.parts[0]!.thoughtSignature, "the agent sent the signature back");
      // The same request with the signature dropped, as the agent did before.
      const stripped = structuredClone(second!.body);
      delete stripped.contents[1]!.parts[0]!.thoughtSignature;
      const res = await fetch(`${gemini.url}/v1beta/models/gemini-3.8-flash:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-goog-api-key": "k" },
        body: JSON.stringify(stripped),
      });
      assert.equal(res.status, 400);
      const err = ((await res.json()) as { error: { status: string; message: string } }).error;
      assert.equal(err.status, "INVALID_ARGUMENT");
      assert.match(
        err.message,
        /^Function call is missing a thought_signature in functionCall parts\./,
      );
      assert.ok(first);
    });

    it("a model that drops signatures fails its tool turn, as the agent did before", async () => {
      const real = model();
      const dropping: Model = {
        name: real.name,
        generate: async (req) => {
          const reply = await real.generate(req);
          return { functionCalls: reply.functionCalls, text: reply.text }; // rebuilt from {id, name, args}
        },
      };
      await assert.rejects(
        turn(chatWith(dropping), { userId: "u", sessionId: "drop" }, "What is 100 USD in EUR?"),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "model_rejected" &&
          /thought_signature/.test(e.publicMessage),
      );
    });

    it("function responses must answer every call, with the calls' ids", async () => {
      const n = gemini.requests.length;
      await turn(
        chatWith(model()),
        { userId: "u", sessionId: "ids" },
        "What is 100 USD in EUR and GBP?",
      );
      const second = structuredClone(since(n)[1]!.body);
      const send = (body: unknown) =>
        fetch(`${gemini.url}/v1beta/models/gemini-3.8-flash:generateContent`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-goog-api-key": "k" },
          body: JSON.stringify(body),
        });
      const oneMissing = structuredClone(second);
      oneMissing.contents[2]!.parts.pop();
      const r1 = await send(oneMissing);
      assert.equal(r1.status, 400);
      assert.match(
        ((await r1.json()) as { error: { message: string } }).error.message,
        /number of function response parts is equal to the number of function call parts/,
      );
      const wrongId = structuredClone(second);
      wrongId.contents[2]!.parts[0]!.functionResponse!.id = "nope";
      assert.equal((await send(wrongId)).status, 400);
      assert.equal((await send(second)).status, 200);
    });
  });

  it("one tool call: signature and call id go back, no temperature, the thinking level set", async () => {
    const n = gemini.requests.length;
    const r = await turn(
      chatWith(model()),
      { userId: "u", sessionId: "s" },
      "What is 100 USD in EUR?",
    );
    assert.equal(r.response, "100 USD is 92.208 EUR (rate of 2025-01-10).");
    const [first, second] = since(n);
    assert.match(first!.path, /^\/v1(beta)?\/models\/gemini-3\.8-flash:generateContent$/);
    assert.equal(first!.headers["x-goog-api-key"], "k");
    const decl = first!.body.tools?.[0]?.functionDeclarations?.[0];
    assert.equal(decl?.name, "get_exchange_rate");
    assert.deepEqual(decl?.parametersJsonSchema, TOOLS[0]!.inputSchema);
    const gc = first!.body.generationConfig ?? {};
    for (const k of ["temperature", "topP", "topK"])
      assert.equal(gc[k], undefined, `${k} not sent`);
    assert.deepEqual(gc.thinkingConfig, { thinkingLevel: "LOW" });
    const [, modelTurn, responses] = second!.body.contents;
    const call = modelTurn!.parts[0]!;
    assert.ok(call.thoughtSignature && call.functionCall?.id);
    const fr = responses!.parts[0]!.functionResponse!;
    assert.equal(fr.id, call.functionCall!.id);
    assert.deepEqual(fr.response, {
      output: { amount: 100, base: "USD", date: "2025-01-10", rates: { EUR: 92.208 } },
    });
  });

  it("two sequential tool steps in one turn each carry their own signature", async () => {
    const tools = new Tools();
    gemini.script(
      {
        parts: [
          {
            functionCall: {
              name: "get_exchange_rate",
              args: { currency_from: "USD", currency_to: "EUR", amount: 100 },
            },
          },
        ],
      },
      {
        parts: [
          {
            functionCall: {
              name: "get_exchange_rate",
              args: { currency_from: "USD", currency_to: "GBP", amount: 100 },
            },
          },
        ],
      },
    );
    const n = gemini.requests.length;
    const r = await turn(
      chatWith(model(), tools),
      { userId: "u", sessionId: "seq" },
      "100 USD in EUR, then in GBP",
    );
    assert.equal(r.response, "100 USD is 78.93 GBP (rate of 2025-01-10).");
    assert.deepEqual(
      tools.calls.map((c) => c.currency_to),
      ["EUR", "GBP"],
    );
    const third = since(n)[2]!.body.contents;
    assert.equal(third.length, 5);
    const sigs = [third[1]!, third[3]!].map((c) => c.parts[0]!.thoughtSignature);
    assert.ok(sigs[0] && sigs[1] && sigs[0] !== sigs[1]);
  });

  it("parallel calls run together and answer in call order, the first alone signed", async () => {
    let running = 0;
    let peak = 0;
    const tools = new Tools();
    const slow: ToolHost = {
      listTools: () => tools.listTools(),
      callTool: async (name, args) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return tools.callTool(name, args);
      },
    };
    const events: TurnEvent[] = [];
    const n = gemini.requests.length;
    const r = await turn(
      chatWith(model(), slow),
      { userId: "u", sessionId: "par" },
      "What is 100 USD in EUR and GBP and JPY?",
      { onEvent: (e) => events.push(e) },
    );
    assert.equal(
      r.response,
      "100 USD is 92.208 EUR (rate of 2025-01-10). 100 USD is 78.93 GBP (rate of 2025-01-10). 100 USD is 15712 JPY (rate of 2025-01-10).",
    );
    assert.equal(peak, 3);
    const second = since(n)[1]!.body.contents;
    const calls = second[1]!.parts;
    assert.deepEqual(
      calls.map((p) => Boolean(p.thoughtSignature)),
      [true, false, false],
    );
    assert.deepEqual(
      second[2]!.parts.map((p) => p.functionResponse!.id),
      calls.map((p) => p.functionCall!.id),
    );
    assert.deepEqual(
      r.toolCalls.map((c) => c.arguments.currency_to),
      ["EUR", "GBP", "JPY"],
    );
    const ids = events.filter((e) => e.type === "tool_call").map((e) => (e as { id?: string }).id);
    assert.deepEqual(
      ids,
      calls.map((p) => p.functionCall!.id),
    );
  });

  it("a second turn after a restart: the signatures survive the store", async () => {
    const store = newStore();
    await turn(
      chatWith(model(), new Tools(), store),
      { userId: "u", sessionId: "restart" },
      "What is 100 USD in EUR?",
    );
    // A new process: a new model client and chat service, the same store.
    const n = gemini.requests.length;
    const r = await turn(
      chatWith(model(), new Tools(), store),
      { userId: "u", sessionId: "restart" },
      "And 50 USD in GBP?",
    );
    assert.equal(r.response, "50 USD is 39.465 GBP (rate of 2025-01-10).");
    const last = since(n).at(-1)!.body.contents;
    assert.equal(last.length, 7);
    // The first turn's signed parts went back byte for byte (the stand-in checks every one).
    assert.ok(last[1]!.parts[0]!.thoughtSignature && last[3]!.parts.at(-1)!.thoughtSignature);
  });

  it("streams the words as they come, and the streamed turn's signatures work next turn", async () => {
    const store = newStore();
    const chat = chatWith(model(), new Tools(), store);
    const events: TurnEvent[] = [];
    const n = gemini.requests.length;
    const r = await turn(chat, { userId: "u", sessionId: "stream" }, "What is 100 USD in EUR?", {
      onEvent: (e) => events.push(e),
    });
    assert.ok(since(n).every((q) => q.stream && /:streamGenerateContent$/.test(q.path)));
    const texts = events
      .filter((e): e is { type: "text"; text: string } => e.type === "text")
      .map((e) => e.text);
    assert.ok(texts.length > 3, `several deltas, got ${texts.length}`);
    assert.equal(texts.join(""), r.response);
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.type),
      ["tool_call", "tool_result"],
    );
    // The answer's signature came as a final empty chunk; it is kept as its own part.
    const history = await store.load({ app: "test", userId: "u", sessionId: "stream" });
    const answer = history.at(-1)!;
    assert.deepEqual(
      answer.parts.map((p) => ("text" in p ? p.text : "?")),
      [r.response, ""],
    );
    assert.ok(answer.parts[1]!.thoughtSignature);
    const again = await turn(chat, { userId: "u", sessionId: "stream" }, "And 10 USD in GBP?", {
      onEvent: () => {},
    });
    assert.equal(again.response, "10 USD is 7.893 GBP (rate of 2025-01-10).");
  });

  it("a client that goes away stops the model stream", async () => {
    gemini.script({ parts: [{ text: "slow answer" }], delayMs: 2_000 });
    const abort = new AbortController();
    const n = gemini.requests.length;
    const running = turn(chatWith(model()), { userId: "u", sessionId: "abort" }, "hi", {
      signal: abort.signal,
      onEvent: () => {},
    });
    // Abort once the request is under way, so the stand-in has seen it before the next test counts.
    while (gemini.requests.length === n) await new Promise((r) => setTimeout(r, 5));
    abort.abort(new Error("client went away"));
    await assert.rejects(running);
  });

  it("Vertex AI: global location path, an ADC bearer token, no sampling settings", async () => {
    const m = model({ apiKey: undefined, vertexai: { project: "my-project", location: "global" } });
    const n = gemini.requests.length;
    gemini.script({ parts: [{ text: "Hello from Vertex" }] });
    const r = await turn(chatWith(m), { userId: "u", sessionId: "v" }, "hi");
    assert.equal(r.response, "Hello from Vertex");
    const req = gemini.requests[n]!;
    assert.match(
      req.path,
      /\/projects\/my-project\/locations\/global\/publishers\/google\/models\/gemini-3\.8-flash:generateContent$/,
    );
    assert.match(String(req.headers.authorization), /^Bearer ya29\.test-/);
    assert.ok(metadata.accessTokenRequests() >= 1);
  });

  it("a sampling setting is sent only when set, and Vertex refuses it for 3.8 with a clear error", async () => {
    const n = gemini.requests.length;
    await model({ sampling: { temperature: 0.2 } }).generate(user("hi"));
    assert.equal(gemini.requests[n]!.body.generationConfig?.temperature, 0.2);
    const vertex = model({
      apiKey: undefined,
      vertexai: { project: "p", location: "global" },
      sampling: { temperature: 0 },
    });
    await assert.rejects(
      vertex.generate(user("hi")),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === "model_rejected" &&
        /temperature is not supported/.test(e.publicMessage),
    );
  });

  it("a refused thinking level names the setting to change", async () => {
    await assert.rejects(
      model({ thinkingLevel: "MINIMAL" }).generate(user("hi")),
      (e: unknown) =>
        e instanceof AppError &&
        /GOOGLE_THINKING_LEVEL/.test(e.publicMessage) &&
        /MINIMAL is not supported/.test(e.publicMessage),
    );
  });

  it("the default model (3.8 Flash) thinks at MEDIUM unless told; the agent's default tells it LOW", async () => {
    const env = { GOOGLE_API_KEY: "k", GOOGLE_GEMINI_BASE_URL: gemini.url };
    const n = gemini.requests.length;
    const ours = await (await createModel(loadConfig(env))).generate(user("hi"));
    const own = await (
      await createModel(loadConfig({ ...env, GOOGLE_THINKING_LEVEL: "default" }))
    ).generate(user("hi"));
    const [low, unset] = since(n);
    assert.match(low!.path, /\/models\/gemini-3\.8-flash:generateContent$/);
    assert.deepEqual(low!.body.generationConfig?.thinkingConfig, { thinkingLevel: "LOW" });
    assert.equal(unset!.body.generationConfig?.thinkingConfig, undefined);
    assert.equal(ours.usage?.thoughts, THOUGHTS.LOW);
    assert.equal(own.usage?.thoughts, THOUGHTS.MEDIUM);
  });

  it("thinking levels are per model: XHIGH is 4 Hydrogen's, MINIMAL is not", async () => {
    const send = (model: string, thinkingLevel: string) =>
      fetch(`${gemini.url}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-goog-api-key": "k" },
        body: JSON.stringify({
          contents: [{ role: "user", parts: [{ text: "hi" }] }],
          generationConfig: { thinkingConfig: { thinkingLevel } },
        }),
      });
    assert.equal((await send("gemini-4-hydrogen", "XHIGH")).status, 200);
    const flash = await send("gemini-3.8-flash", "XHIGH");
    assert.equal(flash.status, 400);
    assert.match(
      ((await flash.json()) as { error: { message: string } }).error.message,
      /XHIGH is not supported for model gemini-3\.8-flash\. Use LOW, MEDIUM or HIGH\./,
    );
    const minimal = await send("gemini-4-hydrogen", "MINIMAL");
    assert.equal(minimal.status, 400);
    assert.match(
      ((await minimal.json()) as { error: { message: string } }).error.message,
      /Use LOW, MEDIUM, HIGH or XHIGH\./,
    );
  });

  describe("a retired or unknown model says so", () => {
    it("in the chat error, naming the model and the setting", async () => {
      const m = model({ model: "gemini-2.5-flash" });
      await assert.rejects(
        turn(chatWith(m), { userId: "u", sessionId: "old" }, "hi"),
        (e: unknown) => {
          assert.ok(e instanceof AppError);
          assert.equal(e.code, "model_not_found");
          assert.match(
            e.publicMessage,
            /"gemini-2\.5-flash" was not found or has been retired: set GOOGLE_MODEL/,
          );
          return true;
        },
      );
    });

    it("in GET /ready, checked once and cached", async () => {
      const m = model({ model: "gemini-2.5-flash" });
      const tools = new Tools();
      const { app } = await buildAgent({ model: m, tools });
      const n = gemini.requests.length;
      const res = await app.request("/ready");
      assert.equal(res.status, 503);
      const body = (await res.json()) as {
        model: string;
        error: { code: string; message: string };
      };
      assert.equal(body.model, "gemini-2.5-flash");
      assert.equal(body.error.code, "model_not_found");
      assert.match(body.error.message, /set GOOGLE_MODEL/);
      assert.equal((await app.request("/ready")).status, 503);
      assert.equal(gemini.requests.length, n, "GET model checks are not generate calls");
      const ok = model();
      assert.deepEqual(await ok.check(), { ok: true });
      // And the chat's own error is JSON with the model's code.
      const chat = await app.request("/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"message":"hi"}',
      });
      assert.equal(chat.status, 502);
      assert.equal(
        ((await chat.json()) as { error: { code: string } }).error.code,
        "model_not_found",
      );
    });
  });

  describe("finish reasons", () => {
    const call = {
      functionCall: {
        name: "get_exchange_rate",
        args: { currency_from: "USD", currency_to: "EUR", amount: 1 },
      },
    };

    it("a malformed function call is retried once, then reported", async () => {
      gemini.script(
        { parts: [], finishReason: "MALFORMED_FUNCTION_CALL", sign: false },
        { parts: [{ text: "fine now" }] },
      );
      assert.equal((await model().generate(user("hi"))).text, "fine now");
      gemini.script(
        { parts: [], finishReason: "MALFORMED_FUNCTION_CALL", sign: false },
        { parts: [], finishReason: "MALFORMED_FUNCTION_CALL", sign: false },
      );
      await assert.rejects(
        model().generate(user("hi")),
        (e: unknown) => e instanceof AppError && e.code === "model_tool_call_invalid",
      );
    });

    it("MAX_TOKENS says the answer was cut, and calls from a cut answer never run", async () => {
      gemini.script({ parts: [{ text: "The rate is" }], finishReason: "MAX_TOKENS" });
      const cut = await model().generate(user("hi"));
      assert.match(cut.text!, /^The rate is\n\n\(The answer was cut short/);
      const tools = new Tools();
      gemini.script({ parts: [call], finishReason: "MAX_TOKENS" });
      await assert.rejects(
        turn(chatWith(model(), tools), { userId: "u", sessionId: "mt" }, "hi"),
        (e: unknown) => e instanceof AppError && e.code === "model_output_truncated",
      );
      assert.equal(tools.calls.length, 0);
    });

    for (const [reason, code, words] of [
      ["SAFETY", "model_blocked", /content reasons \(SAFETY\)/],
      ["PROHIBITED_CONTENT", "model_blocked", /PROHIBITED_CONTENT/],
      ["TOO_MANY_TOOL_CALLS", "model_tool_call_limit", /too many tool calls/],
      ["UNEXPECTED_TOOL_CALL", "model_tool_call_invalid", /invalid tool call/],
      ["OTHER", "model_unavailable", /without a usable answer \(OTHER\)/],
    ] as const) {
      it(`${reason} gets its own message and runs no call`, async () => {
        const tools = new Tools();
        // UNEXPECTED_TOOL_CALL is retried once, like a malformed call.
        const answers = reason === "UNEXPECTED_TOOL_CALL" ? 2 : 1;
        for (let i = 0; i < answers; i++) gemini.script({ parts: [call], finishReason: reason });
        await assert.rejects(
          turn(chatWith(model(), tools), { userId: "u", sessionId: reason }, "hi"),
          (e: unknown) => e instanceof AppError && e.code === code && words.test(e.publicMessage),
        );
        assert.equal(tools.calls.length, 0);
      });
    }

    it("a blocked prompt says so", async () => {
      gemini.script({ parts: [], blockReason: "SAFETY" });
      await assert.rejects(
        model().generate(user("hi")),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "model_blocked" &&
          /declined to read/.test(e.publicMessage),
      );
    });
  });

  describe("retries", () => {
    it("a 429 waits for the RetryInfo delay when it fits, then succeeds", async () => {
      gemini.script(rateLimited(0.3), { parts: [{ text: "after the wait" }] });
      const t0 = Date.now();
      assert.equal((await model().generate(user("hi"))).text, "after the wait");
      assert.ok(Date.now() - t0 >= 290, "waited the server's delay, not a short backoff");
    });

    it("a 429 whose delay does not fit fails at once, saying when to retry", async () => {
      gemini.script(rateLimited(60));
      const n = gemini.requests.length;
      await assert.rejects(
        model().generate(user("hi")),
        (e: unknown) =>
          e instanceof AppError &&
          e.status === 503 &&
          e.code === "model_rate_limited" &&
          e.retryAfterSeconds === 60 &&
          /try again in 60 s/.test(e.publicMessage),
      );
      assert.equal(gemini.requests.length - n, 1);
    });

    it("a daily quota is not retried", async () => {
      gemini.script(rateLimited(1, { daily: true }));
      const n = gemini.requests.length;
      await assert.rejects(
        model().generate(user("hi")),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "model_quota_exhausted" &&
          /daily quota/.test(e.publicMessage),
      );
      assert.equal(gemini.requests.length - n, 1);
    });

    it("5xx is retried with backoff; repeated overloads give a clear 503; a rejected key 502", async () => {
      gemini.script({ status: 503 }, { status: 500 }, { parts: [{ text: "third time lucky" }] });
      assert.equal((await model().generate(user("hi"))).text, "third time lucky");
      gemini.script({ status: 503 }, { status: 503 });
      await assert.rejects(
        model({ attempts: 2 }).generate(user("hi")),
        (e: unknown) =>
          e instanceof AppError && e.status === 503 && /unavailable/.test(e.publicMessage),
      );
      gemini.script({ status: 403, message: "API key not valid", statusText: "PERMISSION_DENIED" });
      await assert.rejects(
        model().generate(user("hi")),
        (e: unknown) =>
          e instanceof AppError && e.status === 502 && e.code === "model_permission_denied",
      );
    });
  });

  it("logs one line per turn with tools, timings and token usage, thoughts included, and no message text", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      log: (severity, message, fields) => lines.push({ severity, message, ...fields }),
      child: () => logger,
    };
    await turn(
      chatWith(model(), new Tools(), newStore(), logger),
      { userId: "u", sessionId: "log" },
      "What is 100 USD in EUR?",
    );
    const line = lines.find((l) => l.message === "turn answered")!;
    assert.equal(line.severity, "INFO");
    assert.equal(line.model, "gemini-3.8-flash");
    assert.equal(line.rounds, 2);
    assert.deepEqual(
      (line.tools as Array<{ name: string }>).map((t) => t.name),
      ["get_exchange_rate"],
    );
    assert.deepEqual(line.usage, { prompt: 240, output: 24, thoughts: 80, total: 344 });
    assert.doesNotMatch(JSON.stringify(lines), /100 USD in EUR/);
  });
});
