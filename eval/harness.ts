// The eval harness: ADK eval sets (`*.evalset.json`) run against a running agent over
// POST /chat/stream, scored as ADK scores them, reported as ADK's EvalSetResult.
//
// Read from google/adk-python (src/google/adk/evaluation/, December 2026) and reimplemented:
// - trajectory_evaluator.py: per invocation 1.0 when the actual tool calls match the expected ones,
//   else 0.0, averaged over the case's invocations. EXACT: same length, same (name, args) pairwise;
//   IN_ORDER: the expected calls are a subsequence of the actual ones; ANY_ORDER: each expected
//   call takes a distinct actual one, order free. Calls compare by name and args (dict equality:
//   deep, key order free); `ignore_args` compares names only. An empty expected list matches
//   anything except under EXACT, where it requires no calls.
// - final_response_match_v1.py with rouge-score's RougeScorer(["rouge1"], use_stemmer=True): the
//   ROUGE-1 F-measure of the answer against the reference, averaged over invocations; stemming only
//   when both texts are mostly Latin script.
// - eval_metrics.py / eval_result.py: criteria as numbers or {threshold, match_type}; EvalStatus
//   1 PASSED, 2 FAILED, 3 NOT_EVALUATED; a score passes when it is >= its threshold.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export type Json = Record<string, unknown>;
export interface ToolUse {
  name: string;
  args: Json;
}
export interface Invocation {
  invocation_id: string;
  user_content: { role?: string; parts: Array<{ text?: string }> };
  final_response?: { role?: string; parts: Array<{ text?: string }> } | undefined;
  intermediate_data?: { tool_uses: ToolUse[] } | undefined;
}
export interface EvalCase {
  eval_id: string;
  conversation: Invocation[];
}
export interface EvalSet {
  eval_set_id: string;
  name?: string | undefined;
  eval_cases: EvalCase[];
}

export const EvalStatus = { PASSED: 1, FAILED: 2, NOT_EVALUATED: 3 } as const;
export type MatchType = "EXACT" | "IN_ORDER" | "ANY_ORDER";
export interface Criterion {
  threshold: number;
  match_type?: MatchType;
  ignore_args?: boolean;
}
export type Criteria = Record<string, Criterion>;
/** The metrics this harness computes; a criterion naming another one is refused. */
export const METRICS = [
  "tool_trajectory_avg_score",
  "response_match_score",
  "tool_numbers_in_response",
] as const;

/** Reads a key written snake_case (as adk-python writes) or camelCase (as its JSON aliases). */
function pick(o: unknown, snake: string): unknown {
  if (typeof o !== "object" || o === null) return undefined;
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const r = o as Json;
  return r[snake] ?? r[camel];
}

function content(o: unknown): Invocation["user_content"] | undefined {
  const parts = pick(o, "parts");
  if (!Array.isArray(parts)) return undefined;
  return { role: pick(o, "role") as string | undefined, parts: parts as Array<{ text?: string }> };
}
export const textOf = (c: { parts: Array<{ text?: string }> } | undefined): string =>
  (c?.parts ?? [])
    .map((p) => p.text)
    .filter(Boolean)
    .join("\n");

/** An eval set from its JSON, snake_case or camelCase; throws naming what is missing. */
export function parseEvalSet(raw: unknown, where: string): EvalSet {
  const cases = pick(raw, "eval_cases");
  const id = pick(raw, "eval_set_id");
  if (typeof id !== "string" || !Array.isArray(cases))
    throw new Error(`${where}: not an ADK eval set (eval_set_id and eval_cases are required)`);
  return {
    eval_set_id: id,
    name: pick(raw, "name") as string | undefined,
    eval_cases: cases.map((c, i) => {
      const evalId = pick(c, "eval_id");
      const conversation = pick(c, "conversation");
      if (typeof evalId !== "string" || !Array.isArray(conversation) || !conversation.length)
        throw new Error(`${where}: eval_cases[${i}] needs eval_id and a conversation`);
      return {
        eval_id: evalId,
        conversation: conversation.map((inv, j) => {
          const user = content(pick(inv, "user_content"));
          if (!textOf(user))
            throw new Error(`${where}: ${evalId} turn ${j + 1} has no user_content text`);
          const uses = pick(pick(inv, "intermediate_data"), "tool_uses");
          return {
            invocation_id: String(pick(inv, "invocation_id") ?? `${evalId}-${j + 1}`),
            user_content: user!,
            final_response: content(pick(inv, "final_response")),
            intermediate_data: {
              tool_uses: Array.isArray(uses)
                ? uses.map((u) => ({
                    name: String(pick(u, "name")),
                    args: (pick(u, "args") ?? {}) as Json,
                  }))
                : [],
            },
          };
        }),
      };
    }),
  };
}

/** Every `*.evalset.json` (or ADK's older `*.test.json`) in a file or a folder, sorted. */
export function loadEvalSets(target: string): EvalSet[] {
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => /\.(evalset|test)\.json$/.test(f))
        .sort()
        .map((f) => path.join(target, f))
    : [target];
  if (!files.length) throw new Error(`${target}: no *.evalset.json files`);
  return files.map((f) => parseEvalSet(JSON.parse(readFileSync(f, "utf8")), f));
}

/** ADK's test_config.json `criteria`: a number is a threshold; objects carry match_type too. */
export function parseCriteria(raw: unknown): Criteria {
  const criteria = pick(raw, "criteria");
  if (typeof criteria !== "object" || criteria === null)
    throw new Error('the eval config needs {"criteria": {metric: threshold, …}}');
  const out: Criteria = {};
  for (const [name, v] of Object.entries(criteria as Json)) {
    if (!(METRICS as readonly string[]).includes(name))
      throw new Error(`unknown criterion ${name} (this harness computes ${METRICS.join(", ")})`);
    const threshold = typeof v === "number" ? v : pick(v, "threshold");
    if (typeof threshold !== "number") throw new Error(`criterion ${name} needs a threshold`);
    const matchType = String(pick(v, "match_type") ?? "EXACT").toUpperCase();
    if (!["EXACT", "IN_ORDER", "ANY_ORDER"].includes(matchType))
      throw new Error(`criterion ${name}: match_type must be EXACT, IN_ORDER or ANY_ORDER`);
    out[name] = {
      threshold,
      match_type: matchType as MatchType,
      ignore_args: pick(v, "ignore_args") === true,
    };
  }
  return out;
}

/** Python's == on JSON values: deep, key order free, 1 == 1.0. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Json)[k], (b as Json)[k]))
  );
}

/** 1 when the actual calls match the expected ones under the match type, else 0 (ADK's rule). */
export function trajectoryScore(
  actual: ToolUse[],
  expected: ToolUse[],
  matchType: MatchType = "EXACT",
  ignoreArgs = false,
): number {
  const same = (x: ToolUse, y: ToolUse): boolean =>
    x.name === y.name && (ignoreArgs || sameJson(x.args, y.args));
  if (matchType === "EXACT")
    return actual.length === expected.length && actual.every((a, i) => same(a, expected[i]!))
      ? 1
      : 0;
  if (!expected.length) return 1;
  if (matchType === "IN_ORDER") {
    let next = 0;
    for (const a of actual) if (next < expected.length && same(a, expected[next]!)) next++;
    return next === expected.length ? 1 : 0;
  }
  const left = [...actual];
  for (const e of expected) {
    const i = left.findIndex((a) => same(a, e));
    if (i < 0) return 0;
    left.splice(i, 1);
  }
  return 1;
}

// Porter's stemmer (1980; the C version's "bli"→"ble" and "logi"→"log"), which rouge-score runs
// through NLTK. NLTK's default mode adds a few irregular forms (skies, dying, …) and two step-2
// suffixes (fulli, lessli) this omits; a reference and an answer rarely differ there.
const cons = (w: string, i: number): boolean =>
  !"aeiou".includes(w[i]!) && (w[i] !== "y" || i === 0 || !cons(w, i - 1));
function measure(s: string): number {
  let m = 0;
  for (let i = 1; i < s.length; i++) if (cons(s, i) && !cons(s, i - 1)) m++;
  return m;
}
const hasVowel = (s: string): boolean => [...s].some((_, i) => !cons(s, i));
const doubleC = (s: string): boolean =>
  s.length > 1 && s.at(-1) === s.at(-2) && cons(s, s.length - 1);
const cvc = (s: string): boolean =>
  s.length > 2 &&
  cons(s, s.length - 3) &&
  !cons(s, s.length - 2) &&
  cons(s, s.length - 1) &&
  !"wxy".includes(s.at(-1)!);
/** The longest listed suffix the word ends with, replaced when the stem meets `ok`. */
function replace(w: string, rules: string[][], ok: (stem: string) => boolean): string {
  for (const [suffix, by] of rules) {
    if (!w.endsWith(suffix!)) continue;
    const stem = w.slice(0, w.length - suffix!.length);
    return ok(stem) ? stem + by : w;
  }
  return w;
}
const pairs = (s: string): string[][] => s.split(" ").map((p) => p.split(":"));
const STEP2 = pairs(
  "ational:ate tional:tion enci:ence anci:ance izer:ize bli:ble alli:al entli:ent eli:e " +
    "ousli:ous ization:ize ation:ate ator:ate alism:al iveness:ive fulness:ful ousness:ous " +
    "aliti:al iviti:ive biliti:ble logi:log",
).sort((a, b) => b[0]!.length - a[0]!.length);
const STEP3 = pairs("icate:ic ative: alize:al iciti:ic ical:ic ful: ness:").sort(
  (a, b) => b[0]!.length - a[0]!.length,
);
const STEP4 = pairs(
  "al: ance: ence: er: ic: able: ible: ant: ement: ment: ent: ion: ou: ism: ate: iti: ous: " +
    "ive: ize:",
).sort((a, b) => b[0]!.length - a[0]!.length);

export function stem(word: string): string {
  let w = word;
  if (w.length <= 2) return w;
  w = replace(w, pairs("sses:ss ies:i ss:ss s:"), () => true);
  if (w.endsWith("eed")) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
  } else {
    for (const suffix of ["ed", "ing"]) {
      const s = w.slice(0, w.length - suffix.length);
      if (!w.endsWith(suffix) || !hasVowel(s)) continue;
      w = s;
      if (/(at|bl|iz)$/.test(w)) w += "e";
      else if (doubleC(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
      else if (measure(w) === 1 && cvc(w)) w += "e";
      break;
    }
  }
  if (w.endsWith("y") && hasVowel(w.slice(0, -1))) w = `${w.slice(0, -1)}i`;
  w = replace(w, STEP2, (s) => measure(s) > 0);
  w = replace(w, STEP3, (s) => measure(s) > 0);
  w = replace(w, STEP4, (s) => measure(s) > 1 && (!w.endsWith("ion") || /[st]$/.test(s)));
  if (w.endsWith("e")) {
    const s = w.slice(0, -1);
    if (measure(s) > 1 || (measure(s) === 1 && !cvc(s))) w = s;
  }
  if (measure(w) > 1 && doubleC(w) && w.endsWith("l")) w = w.slice(0, -1);
  return w;
}

/** rouge-score's tokenizer: lowercase, non-alphanumerics to spaces, split, stem words over 3. */
export function tokenize(text: string, stemming = true): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => (stemming && t.length > 3 ? stem(t) : t));
}

/** ADK's test: more than half of the letters are Latin (no letters counts as Latin). */
function latin(text: string): boolean {
  const letters = text.match(/\p{L}/gu) ?? [];
  if (!letters.length) return true;
  return letters.filter((c) => /\p{Script=Latin}/u.test(c)).length / letters.length > 0.5;
}

/** ROUGE-1 F-measure of `candidate` against `reference`, as ADK's response_match_score. */
export function rouge1(candidate: string, reference: string): number {
  const stemming = latin(candidate) && latin(reference);
  const cand = tokenize(candidate, stemming);
  const ref = tokenize(reference, stemming);
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of cand) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      overlap++;
      counts.set(t, n - 1);
    }
  }
  const precision = overlap / Math.max(cand.length, 1);
  const recall = overlap / Math.max(ref.length, 1);
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** A tool result as /chat/stream reports it. */
export interface ToolResult {
  name: string;
  is_error: boolean;
  result: string;
}

const plain = (s: string): number => Number(s.replace(/,/g, ""));
/**
 * The numbers a successful tool result carries that the answer must quote: the converted amount of
 * each get_exchange_rate result, i.e. the number after "=" in the first "<amount> <CODE> = <number>
 * <CODE>" of its text (the "(1 USD = <rate> EUR; …)" that follows is the rate, which an answer may
 * leave out), or each value of `rates` when the result is the structured JSON. Other tools (lists,
 * histories) carry nothing an answer must repeat in full. Failed calls carry nothing.
 */
export function quotableNumbers(results: ToolResult[]): number[] {
  return results.flatMap((r) => {
    if (r.is_error || r.name !== "get_exchange_rate") return [];
    try {
      const rates = (JSON.parse(r.result) as { rates?: Record<string, unknown> }).rates;
      if (rates) return Object.values(rates).filter((v): v is number => typeof v === "number");
    } catch {
      // the text form
    }
    const m = /^[\d.,]+ [A-Z]{3} = ([\d][\d,]*(?:\.\d+)?) [A-Z]{3}\b/.exec(r.result.trim());
    return m ? [plain(m[1]!)] : [];
  });
}

/**
 * The `quotableNumbers` the answer lacks. A number is found when one of the answer's numbers
 * (thousands separators removed) equals it, or equals it rounded to that number's decimals with at
 * least two (models round to the cent: 92.208 is quoted as 92.21, not as 92).
 */
export function missingNumbers(results: ToolResult[], answer: string): number[] {
  const said = [...answer.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => ({
    value: plain(m[0]),
    decimals: m[0].split(".")[1]?.length ?? 0,
  }));
  return quotableNumbers(results).filter(
    (n) =>
      !said.some(
        (s) =>
          s.value === n || (s.decimals >= 2 && Math.abs(n - s.value) <= 0.5 * 10 ** -s.decimals),
      ),
  );
}

/** tool_numbers_in_response for one turn: the share of `quotableNumbers` quoted, 1 if none. */
export function numbersScore(results: ToolResult[], answer: string): number {
  const wanted = quotableNumbers(results).length;
  return wanted ? (wanted - missingNumbers(results, answer).length) / wanted : 1;
}

/** What one turn of the agent did, read from /chat/stream. */
export interface Turn {
  session_id: string;
  response: string;
  tool_uses: ToolUse[];
  tool_results: ToolResult[];
  first_text_ms: number | undefined;
  total_ms: number;
  usage?: { prompt: number; output: number; thoughts: number; total: number } | undefined;
  error?: string | undefined;
}

/** Parses an SSE body's events in order, with the time each arrived. */
async function* sseEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string; at: number }> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop() ?? "";
    for (const block of blocks) {
      const lines = block.split(/\r?\n/);
      const event =
        lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim() ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      yield { event, data, at: performance.now() };
    }
  }
}

export interface Target {
  url: string;
  /** Bearer token (an ID token for a private Cloud Run agent). */
  token?: string | undefined;
  timeoutMs?: number;
}

/** One turn over POST /chat/stream; an HTTP or stream error is returned in `error`, not thrown. */
export async function runTurn(target: Target, message: string, session?: string): Promise<Turn> {
  const started = performance.now();
  const turn: Turn = {
    session_id: session ?? "",
    response: "",
    tool_uses: [],
    tool_results: [],
    first_text_ms: undefined,
    total_ms: 0,
  };
  try {
    const res = await fetch(`${target.url}/chat/stream`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      body: JSON.stringify({ message, user_id: "eval", ...(session && { session_id: session }) }),
      signal: AbortSignal.timeout(target.timeoutMs ?? 120_000),
    });
    if (!res.ok || !res.body) {
      turn.error = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      return turn;
    }
    let text = "";
    for await (const e of sseEvents(res.body)) {
      const data = JSON.parse(e.data) as Json;
      if (e.event === "session") turn.session_id = String(data.session_id);
      else if (e.event === "tool_call")
        turn.tool_uses.push({ name: String(data.name), args: (data.arguments ?? {}) as Json });
      else if (e.event === "tool_result") turn.tool_results.push(data as unknown as ToolResult);
      else if (e.event === "text") {
        turn.first_text_ms ??= e.at - started;
        text += String(data.text ?? "");
      } else if (e.event === "done") {
        turn.response = typeof data.response === "string" ? data.response : text;
        turn.session_id = String(data.session_id ?? turn.session_id);
        turn.usage = data.usage as Turn["usage"];
      } else if (e.event === "error") turn.error = `${data.code}: ${data.message}`;
    }
    if (!turn.error && !turn.response && !text) turn.error ??= "the stream ended without done";
  } catch (err) {
    turn.error = String((err as Error).message ?? err);
  }
  turn.total_ms = performance.now() - started;
  return turn;
}

export interface MetricResult {
  metric_name: string;
  score: number;
  threshold: number;
  eval_status: number;
  criterion?: Json;
}
export interface EvalCaseResult {
  eval_set_id: string;
  eval_id: string;
  final_eval_status: number;
  session_id: string;
  user_id: string;
  overall_eval_metric_results: MetricResult[];
  eval_metric_result_per_invocation: Array<{
    actual_invocation: Invocation;
    expected_invocation: Invocation;
    eval_metric_results: MetricResult[];
    /** Not in ADK's shape: what a turn cost, from /chat/stream. */
    latency_ms: { first_text: number | null; total: number };
    usage: Turn["usage"] | null;
    /** Not in ADK's shape: the converted amounts the answer did not quote. */
    missing_numbers: number[];
    error?: string;
  }>;
}
export interface EvalSetResult {
  eval_set_result_id: string;
  eval_set_result_name: string;
  eval_set_id: string;
  eval_case_results: EvalCaseResult[];
  creation_timestamp: number;
  /** Not in ADK's shape: the model GET / names, and where the agent ran. */
  model: string;
  agent_url: string;
}

const status = (score: number, threshold: number): number =>
  score >= threshold ? EvalStatus.PASSED : EvalStatus.FAILED;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

function scoreTurn(name: string, c: Criterion, turn: Turn, expected: Invocation): number {
  if (name === "tool_trajectory_avg_score")
    return trajectoryScore(
      turn.tool_uses,
      expected.intermediate_data?.tool_uses ?? [],
      c.match_type,
      c.ignore_args,
    );
  if (name === "response_match_score")
    return rouge1(turn.response, textOf(expected.final_response));
  return numbersScore(turn.tool_results, turn.response);
}

/** Runs one case (one session, turn after turn) and scores it. */
export async function runCase(
  target: Target,
  evalSetId: string,
  c: EvalCase,
  criteria: Criteria,
): Promise<EvalCaseResult> {
  const turns: Turn[] = [];
  let session: string | undefined;
  for (const inv of c.conversation) {
    const turn = await runTurn(target, textOf(inv.user_content), session);
    turns.push(turn);
    session = turn.session_id || session;
    if (turn.error) break;
  }
  const perInvocation = c.conversation.map((expected, i) => {
    const turn = turns[i];
    const results = Object.entries(criteria).map(([name, crit]) => {
      const score = turn && !turn.error ? scoreTurn(name, crit, turn, expected) : 0;
      return { metric_name: name, score, threshold: crit.threshold, eval_status: 0 };
    });
    for (const r of results) r.eval_status = status(r.score, r.threshold);
    return {
      actual_invocation: {
        invocation_id: expected.invocation_id,
        user_content: expected.user_content,
        final_response: { role: "model", parts: [{ text: turn?.response ?? "" }] },
        intermediate_data: { tool_uses: turn?.tool_uses ?? [] },
      },
      expected_invocation: expected,
      eval_metric_results: results,
      latency_ms: {
        first_text: turn?.first_text_ms === undefined ? null : Math.round(turn.first_text_ms),
        total: Math.round(turn?.total_ms ?? 0),
      },
      usage: turn?.usage ?? null,
      missing_numbers: turn && !turn.error ? missingNumbers(turn.tool_results, turn.response) : [],
      ...(turn?.error ? { error: turn.error } : turn ? {} : { error: "not run" }),
    };
  });
  const overall = Object.entries(criteria).map(([name, crit]) => {
    const score = mean(
      perInvocation.map((p) => p.eval_metric_results.find((r) => r.metric_name === name)!.score),
    );
    return {
      metric_name: name,
      score,
      threshold: crit.threshold,
      eval_status: status(score, crit.threshold),
      ...(name === "tool_trajectory_avg_score" && {
        criterion: { threshold: crit.threshold, match_type: crit.match_type },
      }),
    };
  });
  const failed = overall.some((m) => m.eval_status !== EvalStatus.PASSED);
  return {
    eval_set_id: evalSetId,
    eval_id: c.eval_id,
    final_eval_status: failed ? EvalStatus.FAILED : EvalStatus.PASSED,
    session_id: session ?? "",
    user_id: "eval",
    overall_eval_metric_results: overall,
    eval_metric_result_per_invocation: perInvocation,
  };
}

/** Runs every case of a set, one after another (one session each), reporting each as it ends. */
export async function runEvalSet(
  target: Target,
  set: EvalSet,
  criteria: Criteria,
  model: string,
  onCase: (r: EvalCaseResult) => void = () => {},
): Promise<EvalSetResult> {
  const results: EvalCaseResult[] = [];
  for (const c of set.eval_cases) {
    const r = await runCase(target, set.eval_set_id, c, criteria);
    onCase(r);
    results.push(r);
  }
  const now = Date.now() / 1000;
  const id = `${set.eval_set_id}_${model}_${Math.floor(now)}`.replace(/[^A-Za-z0-9_.-]/g, "_");
  return {
    eval_set_result_id: id,
    eval_set_result_name: id,
    eval_set_id: set.eval_set_id,
    eval_case_results: results,
    creation_timestamp: now,
    model,
    agent_url: target.url,
  };
}

/** One line per case: status, id, each metric's score, the turns' total time. */
export function progressLine(r: EvalCaseResult): string {
  const scores = r.overall_eval_metric_results
    .map((m) => `${short(m.metric_name)}=${m.score.toFixed(2)}`)
    .join(" ");
  const ms = r.eval_metric_result_per_invocation.reduce((a, p) => a + p.latency_ms.total, 0);
  const error = r.eval_metric_result_per_invocation.find((p) => p.error)?.error;
  const verdict = r.final_eval_status === EvalStatus.PASSED ? "PASS" : "FAIL";
  const seconds = `${(ms / 1000).toFixed(1)}s`;
  return `${verdict}  ${r.eval_id.padEnd(28)} ${scores}  ${seconds}${error ? `  (${error})` : ""}`;
}
/**
 * The lines under a FAIL: for each turn below a threshold the case failed, what differed. The
 * expected and actual tool calls with the arguments that differ, the ROUGE-1 score against its
 * threshold with both texts, the converted amounts the answer lacks.
 */
export function failureLines(r: EvalCaseResult, criteria: Criteria): string[] {
  const failed = r.overall_eval_metric_results.filter((m) => m.eval_status !== EvalStatus.PASSED);
  const lines = r.eval_metric_result_per_invocation.flatMap((p, i) => {
    const below = p.eval_metric_results.filter(
      (m) =>
        m.eval_status !== EvalStatus.PASSED && failed.some((f) => f.metric_name === m.metric_name),
    );
    if (!below.length && !p.error) return [];
    const turn = `turn ${i + 1}: ${clip(textOf(p.expected_invocation.user_content))}`;
    if (p.error) return [turn, `  error: ${p.error}`];
    return [turn, ...below.flatMap((m) => reasons(m, p, criteria[m.metric_name]!))];
  });
  return lines.map((l) => `      ${l}`);
}

type InvocationResult = EvalCaseResult["eval_metric_result_per_invocation"][number];
function reasons(m: MetricResult, p: InvocationResult, criterion: Criterion): string[] {
  // Three significant digits, so that a score just under its threshold does not read as equal.
  const score = `${short(m.metric_name)} ${Number(m.score.toPrecision(3))} < ${m.threshold}`;
  if (m.metric_name === "tool_trajectory_avg_score") {
    const expected = p.expected_invocation.intermediate_data?.tool_uses ?? [];
    const actual = p.actual_invocation.intermediate_data?.tool_uses ?? [];
    return [
      `  ${score} (${criterion.match_type}${criterion.ignore_args ? ", names only" : ""})`,
      `    expected: ${calls(expected)}`,
      `    actual:   ${calls(actual)}`,
      ...(criterion.ignore_args ? [] : argDiffs(expected, actual).map((d) => `    ${d}`)),
    ];
  }
  if (m.metric_name === "response_match_score")
    return [
      `  ${score}`,
      `    expected: ${clip(textOf(p.expected_invocation.final_response))}`,
      `    actual:   ${clip(textOf(p.actual_invocation.final_response))}`,
    ];
  const lacks = p.missing_numbers.join(", ");
  return [`  ${score}: the answer lacks ${lacks} (converted by get_exchange_rate)`];
}

const MAX_CALLS = 4;
const clip = (text: string, max = 110): string =>
  JSON.stringify(text.length > max ? `${text.slice(0, max - 1)}…` : text);
const call = (u: ToolUse): string =>
  `${u.name}(${Object.entries(u.args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")})`;
function calls(uses: ToolUse[]): string {
  if (!uses.length) return "no tool call";
  const more = uses.length > MAX_CALLS ? `, … ${uses.length - MAX_CALLS} more` : "";
  return uses.slice(0, MAX_CALLS).map(call).join(", ") + more;
}
/** The arguments that differ between the n-th expected and the n-th actual call of each tool. */
function argDiffs(expected: ToolUse[], actual: ToolUse[]): string[] {
  const nth = (uses: ToolUse[], u: ToolUse, i: number): number =>
    uses.slice(0, i).filter((x) => x.name === u.name).length;
  return expected.flatMap((e, i) => {
    const a = actual.filter((x) => x.name === e.name)[nth(expected, e, i)];
    if (!a || sameJson(a.args, e.args)) return [];
    const keys = [...new Set([...Object.keys(e.args), ...Object.keys(a.args)])];
    const shown = (v: unknown): string => (v === undefined ? "absent" : JSON.stringify(v));
    const diffs = keys
      .filter((k) => !sameJson(e.args[k], a.args[k]))
      .map((k) => `${k} expected ${shown(e.args[k])}, actual ${shown(a.args[k])}`);
    return [`${e.name} differs: ${diffs.join("; ")}`];
  });
}

const SHORT: Record<string, string> = {
  tool_trajectory_avg_score: "trajectory",
  response_match_score: "rouge1",
  tool_numbers_in_response: "numbers",
};
const short = (name: string): string => SHORT[name] ?? name;

/** USD per million tokens; `estimate`: not read on Google's own page. */
interface Rate {
  input: number;
  output: number;
  estimate?: boolean;
}
/** A model's price, and its later prices, each from its UTC day (YYYY-MM-DD) on. */
export interface Price extends Rate {
  changes?: Array<Rate & { from: string }>;
}
export interface Prices {
  models: Record<string, Price>;
}

/** The price in force on a UTC day: the latest change from that day or before, else the base. */
function priceOn(price: Price, day: string): Rate {
  const due = (price.changes ?? []).filter((c) => c.from <= day);
  return due.sort((a, b) => a.from.localeCompare(b.from)).at(-1) ?? price;
}

function percentile(xs: number[], p: number): number | undefined {
  if (!xs.length) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One row per model: pass rate, metric means, latency percentiles, tokens and cost per turn. */
export interface SummaryRow {
  model: string;
  cases: number;
  passed: number;
  metrics: Record<string, number>;
  first_text_ms: { p50?: number | undefined; p95?: number | undefined };
  total_ms: { p50?: number | undefined; p95?: number | undefined };
  tokens_per_turn: number | undefined;
  usd_per_1000_turns: number | undefined;
  price_estimate: boolean;
}
export function summarise(results: EvalSetResult[], model: string, prices?: Prices): SummaryRow {
  const cases = results.flatMap((r) => r.eval_case_results);
  const turns = cases.flatMap((c) => c.eval_metric_result_per_invocation);
  const metrics: Record<string, number> = {};
  for (const name of new Set(
    cases.flatMap((c) => c.overall_eval_metric_results.map((m) => m.metric_name)),
  ))
    metrics[name] = mean(
      cases.map(
        (c) => c.overall_eval_metric_results.find((m) => m.metric_name === name)?.score ?? 0,
      ),
    );
  const firsts = turns.flatMap((t) =>
    t.latency_ms.first_text === null ? [] : [t.latency_ms.first_text],
  );
  const totals = turns.map((t) => t.latency_ms.total);
  const usages = turns.flatMap((t) => (t.usage ? [t.usage] : []));
  const listed = prices?.models[model];
  // Priced on the day the run was made, as Google bills it.
  const day = new Date((results[0]?.creation_timestamp ?? 0) * 1000).toISOString().slice(0, 10);
  const price = listed && priceOn(listed, day);
  const perTurn = (f: (u: NonNullable<Turn["usage"]>) => number): number => mean(usages.map(f));
  return {
    model,
    cases: cases.length,
    passed: cases.filter((c) => c.final_eval_status === EvalStatus.PASSED).length,
    metrics,
    first_text_ms: { p50: percentile(firsts, 50), p95: percentile(firsts, 95) },
    total_ms: { p50: percentile(totals, 50), p95: percentile(totals, 95) },
    tokens_per_turn: usages.length ? perTurn((u) => u.total) : undefined,
    usd_per_1000_turns:
      usages.length && price
        ? (1000 *
            (perTurn((u) => u.prompt) * price.input +
              perTurn((u) => u.output + u.thoughts) * price.output)) /
          1e6
        : undefined,
    price_estimate: price?.estimate === true,
  };
}

/** The terminal table: one row per model. */
export function table(rows: SummaryRow[]): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const ms = (v: number | undefined): string => (v === undefined ? "-" : `${Math.round(v)}`);
  const head = [
    "model",
    "pass",
    ...names.map(short),
    "first text p50/p95 ms",
    "total p50/p95 ms",
    "tokens/turn",
    "$/1k turns",
  ];
  const body = rows.map((r) => [
    r.model,
    `${r.passed}/${r.cases} (${Math.round((100 * r.passed) / Math.max(r.cases, 1))}%)`,
    ...names.map((n) => r.metrics[n]?.toFixed(2) ?? "-"),
    `${ms(r.first_text_ms.p50)}/${ms(r.first_text_ms.p95)}`,
    `${ms(r.total_ms.p50)}/${ms(r.total_ms.p95)}`,
    r.tokens_per_turn === undefined ? "-" : String(Math.round(r.tokens_per_turn)),
    r.usd_per_1000_turns === undefined
      ? "-"
      : `${r.usd_per_1000_turns.toFixed(3)}${r.price_estimate ? " (est.)" : ""}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}
