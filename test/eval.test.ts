// `make eval` scores as ADK scores (hand-computed expectations), fails the cases that must fail,
// writes ADK's EvalSetResult, and runs the project's eval set against a stack with the offline
// model, against one with the Gemini stand-in, and across two models side by side.
import assert from "node:assert/strict";

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  EvalStatus,
  failureLines,
  numbersScore,
  parseCriteria,
  parseEvalSet,
  rouge1,
  runEvalSet,
  stem,
  summarise,
  tokenize,
  trajectoryScore,
  type EvalSetResult,
  type Prices,
  type ToolUse,
} from "../eval/harness.js";
import { startFrankfurter, type FakeFrankfurter } from "./support/frankfurter.js";
import { startGemini, type FakeGemini } from "./support/gemini.js";
import { ROOT, runCommand, startService, type RunningService } from "./support/service.js";

const call = (name: string, args: Record<string, unknown> = {}): ToolUse => ({ name, args });
const usdEur = call("get_exchange_rate", { currency_from: "USD", currency_to: "EUR", amount: 100 });
const usdGbp = call("get_exchange_rate", { currency_from: "USD", currency_to: "GBP", amount: 100 });
const list = call("list_currencies");
/** One turn of an eval case, as ADK writes it. */
const evalTurn = (text: string, uses: ToolUse[], answer: string) => ({
  user_content: { parts: [{ text }] },
  final_response: { parts: [{ text: answer }] },
  intermediate_data: { tool_uses: uses },
});

/**
 * An agent that answers each /chat/stream message with the events `reply` gives, or with that HTTP
 * status; GET / names the model "fake". It records each request's method, path and Authorization.
 */
async function startFakeAgent(reply: (message: string) => Array<[string, unknown]> | number) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/") return void res.end(JSON.stringify({ model: "fake" }));
      const events = reply(String((JSON.parse(body) as { message: unknown }).message));
      if (typeof events === "number") return void res.writeHead(events).end("agent failed");
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(events.map(([e, data]) => `event: ${e}\ndata: ${JSON.stringify(data)}\n\n`).join(""));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("eval scoring, as adk-python's evaluators", () => {
  it("tool trajectory: EXACT, IN_ORDER and ANY_ORDER, names and args by deep equality", () => {
    // args compare as Python dicts: key order free; a defaulted argument sent explicitly differs
    const reordered = call("get_exchange_rate", {
      amount: 100,
      currency_to: "EUR",
      currency_from: "USD",
    });
    const explicit = call("get_exchange_rate", { ...usdEur.args, currency_date: "latest" });
    assert.equal(trajectoryScore([reordered], [usdEur], "EXACT"), 1);
    assert.equal(trajectoryScore([explicit], [usdEur], "EXACT"), 0);
    assert.equal(trajectoryScore([explicit], [usdEur], "EXACT", true), 1, "ignore_args");
    assert.equal(trajectoryScore([list, usdEur], [usdEur], "EXACT"), 0);
    assert.equal(trajectoryScore([list, usdEur], [usdEur], "IN_ORDER"), 1);
    assert.equal(trajectoryScore([usdGbp, usdEur], [usdEur, usdGbp], "IN_ORDER"), 0);
    assert.equal(trajectoryScore([usdGbp, list, usdEur], [usdEur, usdGbp], "ANY_ORDER"), 1);
    assert.equal(trajectoryScore([usdEur], [usdEur, usdEur], "ANY_ORDER"), 0, "one actual each");
    // no expected calls: EXACT wants none, the others accept anything
    assert.equal(trajectoryScore([list], [], "EXACT"), 0);
    assert.equal(trajectoryScore([], [], "EXACT"), 1);
    assert.equal(trajectoryScore([list], [], "IN_ORDER"), 1);
    assert.equal(trajectoryScore([], [usdEur], "ANY_ORDER"), 0);
  });

  it("ROUGE-1 F-measure with rouge-score's tokenizer and Porter stems", () => {
    // 5 shared unigrams of 6 each: P = R = F = 5/6
    assert.equal(rouge1("the cat sat on the mat", "the cat is on the mat"), 5 / 6);
    // running -> run, dogs -> dog, runs -> run; words of 3 letters or fewer are not stemmed:
    // candidate [run, dog], reference [the, dog, run]: P = 1, R = 2/3, F = 0.8
    assert.equal(rouge1("Running dogs!", "The dog runs."), 0.8);
    assert.deepEqual(tokenize("100 USD = 92.21 EUR (ECB's rate)"), [
      "100",
      "usd",
      "92",
      "21",
      "eur",
      "ecb",
      "s",
      "rate",
    ]);
    assert.equal(rouge1("", "anything"), 0);
    assert.equal(rouge1("Same words", "same WORDS"), 1);
    // not Latin script: no stemming, and the letters are not a-z, so no tokens at all
    assert.equal(rouge1("100 долларов", "100 долларов"), 1);
    const porter: Record<string, string> = {
      caresses: "caress",
      ponies: "poni",
      relational: "relat",
      conditional: "condit",
      hopping: "hop",
      filing: "file",
      happy: "happi",
      generalization: "gener",
      electricity: "electr",
      agreed: "agre",
      hopeful: "hope",
      goodness: "good",
      controll: "control",
      currencies: "currenc",
    };
    for (const [word, stemmed] of Object.entries(porter)) assert.equal(stem(word), stemmed, word);
  });

  it("tool_numbers_in_response: a successful call's converted amounts are in the answer", () => {
    const result = (text: string, isError = false) => ({
      name: "get_exchange_rate",
      is_error: isError,
      result: text,
    });
    const eur = result("100 USD = 92.208 EUR on 2026-01-09 (1 USD = 0.92208 EUR; ECB)");
    const jpy = result("100 USD = 15,123.5 JPY on 2026-01-09 (1 USD = 151.235 JPY; ECB)");
    assert.equal(numbersScore([eur], "100 USD is 92.21 EUR."), 1, "rounded to the cent");
    assert.equal(numbersScore([eur], "100 USD is 92.208 EUR."), 1);
    assert.equal(numbersScore([eur], "100 USD is about 92 EUR."), 0, "an integer is no rounding");
    assert.equal(numbersScore([eur], "The rate is 0.92208."), 0, "the rate is not the amount");
    assert.equal(numbersScore([eur, jpy], "92.21 EUR or 15,123.50 JPY"), 1, "thousands");
    assert.equal(numbersScore([eur, jpy], "92.21 EUR"), 0.5);
    assert.equal(numbersScore([result("rates unavailable: 503", true)], "Sorry."), 1);
    const structured = result(JSON.stringify({ rates: { EUR: 80 } }));
    assert.equal(numbersScore([structured], "That is 80 EUR"), 1);
    const history = {
      name: "get_exchange_rate_history",
      is_error: false,
      result: "2024-01-02 1.1",
    };
    assert.equal(numbersScore([history], "It rose."), 1, "histories are summarised, not quoted");
  });

  it("reads eval sets snake_case or camelCase and criteria as numbers or objects", () => {
    const camel = parseEvalSet(
      {
        evalSetId: "s",
        evalCases: [
          {
            evalId: "c",
            conversation: [
              {
                userContent: { parts: [{ text: "hi" }] },
                finalResponse: { parts: [{ text: "hello" }] },
                intermediateData: { toolUses: [{ name: "list_currencies", args: {} }] },
              },
            ],
          },
        ],
      },
      "camel",
    );
    assert.equal(camel.eval_cases[0]!.eval_id, "c");
    assert.deepEqual(camel.eval_cases[0]!.conversation[0]!.intermediate_data!.tool_uses, [list]);
    assert.throws(() => parseEvalSet({ eval_cases: [] }, "x.json"), /x\.json: not an ADK eval set/);
    assert.deepEqual(
      parseCriteria({
        criteria: {
          tool_trajectory_avg_score: { threshold: 0.5, matchType: "any_order" },
          response_match_score: 0.8,
        },
      }),
      {
        tool_trajectory_avg_score: { threshold: 0.5, match_type: "ANY_ORDER", ignore_args: false },
        response_match_score: { threshold: 0.8, match_type: "EXACT", ignore_args: false },
      },
    );
    assert.throws(() => parseCriteria({ criteria: { safety_v1: 1 } }), /unknown criterion/);
  });

  it("under a failed case, says why: the calls and the arguments that differ, ROUGE-1 against its threshold, the missing number, an error", async () => {
    const done = (response: string): Array<[string, unknown]> => [
      ["session", { session_id: "s" }],
      ["done", { response, session_id: "s" }],
    ];
    const agent = await startFakeAgent((message) => {
      if (message === "boom") return 500;
      if (message === "hi") return done("100 USD is 80 EUR");
      return [
        [
          "tool_call",
          { name: "get_exchange_rate", arguments: { ...usdEur.args, currency_date: "latest" } },
        ],
        [
          "tool_result",
          { name: "get_exchange_rate", is_error: false, result: "100 USD = 80 EUR on 2026-01-09" },
        ],
        ...done("That is about eighty euros."),
      ];
    });
    try {
      const criteria = parseCriteria({
        criteria: {
          tool_trajectory_avg_score: 1,
          response_match_score: 0.3,
          tool_numbers_in_response: 1,
        },
      });
      const hi = evalTurn("hi", [], "100 USD is 80 EUR");
      const cases = [
        { eval_id: "holds", conversation: [hi] },
        {
          eval_id: "wrong",
          conversation: [evalTurn("100 USD in EUR", [usdEur], "100 USD is 80 EUR")],
        },
        // Its first turn holds, and so does its ROUGE-1 mean: only turn 2's calls and number
        {
          eval_id: "later",
          conversation: [hi, evalTurn("100 USD in EUR", [usdEur], "That is about eighty euros.")],
        },
        { eval_id: "broken", conversation: [evalTurn("boom", [], "Sorry.")] },
      ];
      const set = parseEvalSet({ eval_set_id: "why", eval_cases: cases }, "why");
      const results = (await runEvalSet({ url: agent.url }, set, criteria, "fake"))
        .eval_case_results;
      const [holds, wrong, later, broken] = results.map((r) => failureLines(r, criteria));
      assert.deepEqual(holds, []);
      const calls = [
        "        trajectory 0 < 1 (EXACT)",
        '          expected: get_exchange_rate(currency_from="USD", currency_to="EUR", amount=100)',
        '          actual:   get_exchange_rate(currency_from="USD", currency_to="EUR", amount=100, currency_date="latest")',
        '          get_exchange_rate differs: currency_date expected absent, actual "latest"',
      ];
      const number = "        numbers 0 < 1: the answer lacks 80 (converted by get_exchange_rate)";
      assert.deepEqual(wrong, [
        '      turn 1: "100 USD in EUR"',
        ...calls,
        "        rouge1 0.2 < 0.3",
        '          expected: "100 USD is 80 EUR"',
        '          actual:   "That is about eighty euros."',
        number,
      ]);
      assert.deepEqual(later, ['      turn 2: "100 USD in EUR"', ...calls, number]);
      assert.deepEqual(broken, ['      turn 1: "boom"', "        error: HTTP 500: agent failed"]);
    } finally {
      await agent.close();
    }
  });
});

/** Runs `make -s eval` without blocking this process (the stand-ins live here). */
function makeEval(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return runCommand("make", ["-s", "eval"], { env });
}

function readReports(dir: string): EvalSetResult[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".evalset_result.json"))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as EvalSetResult);
}
const statusOf = (r: EvalSetResult, id: string): number | undefined =>
  r.eval_case_results.find((c) => c.eval_id === id)?.final_eval_status;

describe("eval prices", () => {
  const prices = JSON.parse(readFileSync(path.join(ROOT, "eval", "prices.json"), "utf8")) as Prices;
  // One turn of 1,000 prompt and 1,000 output tokens (thoughts bill as output): $/1k turns is
  // then the input price plus the output price.
  const runAt = (iso: string): EvalSetResult[] => [
    {
      creation_timestamp: Date.parse(iso) / 1000,
      eval_case_results: [
        {
          overall_eval_metric_results: [],
          eval_metric_result_per_invocation: [
            {
              latency_ms: { first_text: null, total: 1 },
              usage: { prompt: 1000, output: 100, thoughts: 900, total: 2000 },
            },
          ],
        },
      ],
    } as unknown as EvalSetResult,
  ];
  const cost = (model: string, iso: string) => summarise(runAt(iso), model, prices);

  it("prices a run by its UTC day: 3.8 Flash doubles on 2027-01-01", () => {
    const before = cost("gemini-3.8-flash", "2026-12-31T23:59:59Z");
    const after = cost("gemini-3.8-flash", "2027-01-01T00:00:00Z");
    assert.equal(before.usd_per_1000_turns, 4.5);
    assert.equal(after.usd_per_1000_turns, 9);
    // Google's page gives the first price; the second is reported, and marked so.
    assert.deepEqual([before.price_estimate, after.price_estimate], [false, true]);
  });

  it("4 Hydrogen's reported price is marked, not passed off as Google's", () => {
    const row = cost("gemini-4-hydrogen", "2027-01-01T00:00:00Z");
    assert.equal(row.usd_per_1000_turns, 9);
    assert.equal(row.price_estimate, true);
  });
});

describe("make eval against running stacks", () => {
  let upstream: FakeFrankfurter;
  let gemini: FakeGemini;
  let mcp: RunningService;
  let offline: RunningService;
  let withGemini: RunningService;
  let dir = "";
  const geminiEnv = (): Record<string, string> => ({
    GOOGLE_API_KEY: "test-key",
    GOOGLE_GEMINI_BASE_URL: gemini.url,
  });
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "eval-"));
    upstream = await startFrankfurter();
    gemini = await startGemini();
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    [offline, withGemini] = await Promise.all([
      startService("agent", { MCP_SERVER_URL: `${mcp.url}/mcp`, MODEL_PROVIDER: "offline" }),
      startService("agent", { MCP_SERVER_URL: `${mcp.url}/mcp`, ...geminiEnv() }),
    ]);
  });
  after(async () => {
    await Promise.all([offline?.stop(), withGemini?.stop()]);
    await mcp?.stop();
    await Promise.all([upstream?.close(), gemini?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the project's set against the Gemini stand-in: conversions pass", async () => {
    const report = path.join(dir, "gemini");
    const r = await makeEval({ AGENT_URL: withGemini.url, EVAL_REPORT: report });
    assert.equal(r.code, 2, r.out); // make's status when the recipe exits 1: a case failed
    assert.match(r.out, /^PASS +convert_usd_eur +trajectory=1\.00 rouge1=0\.\d\d numbers=1\.00/m);
    assert.match(r.out, /^FAIL +ambiguous_peso +trajectory=1\.00 rouge1=0\.00/m);
    assert.match(r.out, /^gemini-3\.8-flash +\d+\/31 \(\d+%\)/m);
    assert.match(r.out, /eval: \d+ case\(s\) failed/);
    const [result] = readReports(report);
    // ADK's EvalSetResult, read back
    assert.equal(result!.eval_set_id, "currency_agent");
    assert.match(result!.eval_set_result_id, /^currency_agent_gemini-3\.8-flash_\d+$/);
    assert.equal(result!.eval_case_results.length, 31);
    assert.equal(statusOf(result!, "several_targets"), EvalStatus.PASSED);
    assert.equal(statusOf(result!, "history_range"), EvalStatus.FAILED);
    const c = result!.eval_case_results.find((x) => x.eval_id === "follow_up_target")!;
    assert.deepEqual(
      c.overall_eval_metric_results.map((m) => [m.metric_name, m.threshold]),
      [
        ["tool_trajectory_avg_score", 1],
        ["response_match_score", 0.3],
        ["tool_numbers_in_response", 1],
      ],
    );
    assert.equal(c.overall_eval_metric_results[0]!.score, 0.5, "one of two turns matched");
    assert.equal(c.overall_eval_metric_results[0]!.eval_status, EvalStatus.FAILED);
    const turn = c.eval_metric_result_per_invocation[0]!;
    assert.match(turn.actual_invocation.final_response!.parts[0]!.text!, /^50 EUR is 42\.13 GBP/);
    assert.ok(turn.latency_ms.total >= (turn.latency_ms.first_text ?? 0));
    assert.ok(turn.usage && turn.usage.total > 0, "the agent reports tokens in done");
  });

  it("runs it against the offline model, which fails what it cannot answer", async () => {
    const report = path.join(dir, "offline");
    const r = await makeEval({ AGENT_URL: offline.url, EVAL_REPORT: report });
    assert.equal(r.code, 2, r.out);
    const [result] = readReports(report);
    assert.equal(result!.model, "offline");
    assert.equal(statusOf(result!, "past_date_iso"), EvalStatus.PASSED);
    // It leaves currency_date to the tool's default, as the reference calls do.
    assert.equal(statusOf(result!, "convert_usd_eur"), EvalStatus.PASSED);
    assert.equal(statusOf(result!, "ambiguous_peso"), EvalStatus.PASSED);
    assert.equal(statusOf(result!, "off_topic_weather"), EvalStatus.FAILED);
    // "200 US dollars": the list's name with its qualifier
    assert.equal(statusOf(result!, "convert_currency_names"), EvalStatus.PASSED);
    assert.match(r.out, /^offline +\d+\/31/m);
    assert.match(
      r.out,
      new RegExp(
        [
          "^FAIL +off_topic_weather .*",
          ' +turn 1: "What\'s the weather in Paris today\\?"',
          " +rouge1 0\\.\\d+ < 0\\.3",
          ' +expected: "Sorry, I only help with exchange rates and currency conversions\\."',
          " +actual: +\"I'm running without a language model",
        ].join("\n"),
        "m",
      ),
    );
  });

  it("passes a set that holds; fails a case that must fail, across two models", async () => {
    const set = path.join(dir, "two.evalset.json");
    const cases = [
      {
        eval_id: "holds",
        conversation: [evalTurn("100 USD in EUR", [usdEur], "100 USD is 80 EUR")],
      },
      {
        // the right call, but the reference expects another target: must fail on both metrics
        eval_id: "must_fail",
        conversation: [evalTurn("100 USD in EUR", [usdGbp], "Quite another answer entirely")],
      },
    ];
    writeFileSync(set, JSON.stringify({ eval_set_id: "two", eval_cases: cases.slice(0, 1) }));
    const ok = await makeEval({
      AGENT_URL: withGemini.url,
      EVALSET: set,
      EVAL_REPORT: path.join(dir, "ok"),
    });
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /every case passed/);

    writeFileSync(set, JSON.stringify({ eval_set_id: "two", eval_cases: cases }));
    const report = path.join(dir, "models");
    const r = await makeEval({
      ...geminiEnv(),
      MODELS: "gemini-3.8-flash,gemini-3.7-flash",
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      EVALSET: set,
      EVAL_REPORT: report,
    });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /^FAIL +must_fail +trajectory=0\.00 rouge1=0\.00 numbers=1\.00/m);
    // and the lines under it say why
    const why = [
      'turn 1: "100 USD in EUR"',
      "  trajectory 0 < 1 \\(IN_ORDER\\)",
      '    expected: get_exchange_rate\\(currency_from="USD", currency_to="GBP", amount=100\\)',
      '    actual: +get_exchange_rate\\(currency_from="USD", currency_to="EUR", amount=100\\)',
      '    get_exchange_rate differs: currency_to expected "GBP", actual "EUR"',
      "  rouge1 0 < 0\\.3",
      '    expected: "Quite another answer entirely"',
    ];
    assert.match(
      r.out,
      new RegExp(`^FAIL +must_fail .*\n${why.map((l) => ` {6}${l}\n`).join("")}`, "m"),
    );
    // one table, one row per model, tokens and a price from eval/prices.json
    // (the price in force on the day the suite runs: 2027's is marked as reported)
    assert.match(
      r.out,
      /^gemini-3\.8-flash +1\/2 \(50%\) +0\.50 +\S+ +1\.00 .* \d+ +\d+\.\d{3}( \(est\.\))?$/m,
    );
    assert.match(r.out, /^gemini-3\.7-flash +1\/2 \(50%\)/m);
    const results = readReports(report);
    assert.deepEqual(results.map((x) => x.model).sort(), ["gemini-3.7-flash", "gemini-3.8-flash"]);
    for (const x of results) assert.equal(statusOf(x, "must_fail"), EvalStatus.FAILED);
    const summary = JSON.parse(readFileSync(path.join(report, "summary.json"), "utf8")) as Array<{
      model: string;
      passed: number;
    }>;
    assert.deepEqual(
      summary.map((s) => [s.model, s.passed]),
      [
        ["gemini-3.8-flash", 1],
        ["gemini-3.7-flash", 1],
      ],
    );
  });

  it("sends ID_TOKEN; on https without it, stops (exit 2) when gcloud has no token", async () => {
    const fake = await startFakeAgent(() => [
      ["session", { session_id: "s-1" }],
      ["done", { response: "ok", session_id: "s-1", tool_calls: [] }],
    ]);
    try {
      const set = path.join(dir, "one.evalset.json");
      const one = {
        user_content: { parts: [{ text: "hi" }] },
        final_response: { parts: [{ text: "ok" }] },
      };
      writeFileSync(
        set,
        JSON.stringify({
          eval_set_id: "one",
          eval_cases: [{ eval_id: "hi", conversation: [one] }],
        }),
      );
      const r = await makeEval({
        AGENT_URL: fake.url,
        ID_TOKEN: "tok-123",
        EVALSET: set,
        EVAL_REPORT: path.join(dir, "one"),
      });
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(fake.seen, ["GET / Bearer tok-123", "POST /chat/stream Bearer tok-123"]);
      assert.ok(!r.out.includes("tok-123"), "the token is never printed");
    } finally {
      await fake.close();
    }
    const state = path.join(dir, "gcloud-state");
    writeFileSync(state, "");
    const r = await makeEval({
      AGENT_URL: "https://127.0.0.1:9",
      PATH: `${path.join(ROOT, "test/support/bin")}:${process.env.PATH}`,
      GCLOUD_LOG: path.join(dir, "gcloud.log"),
      GCLOUD_STATE: state,
      GCLOUD_LOGGED_OUT: "1",
    });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /https and ID_TOKEN is unset, but gcloud gave no ID token/);
  });
});
