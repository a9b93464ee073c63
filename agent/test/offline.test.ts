// The offline model through the real chat loop, against tools that answer as the mcp-server's do:
// the same inputs, checks, declared output shapes and error texts (mcp-server/src/tools/*.ts and
// validation.ts as of this commit), in today's v1 shape and a v2-like shape with added fields.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChatService, type ToolHost, type ToolOutcome } from "../src/chat.js";
import { silentLogger } from "../src/log.js";
import { OfflineModel } from "../src/models/offline.js";
import type { ToolSpec } from "../src/models/types.js";
import { MemorySessionStore } from "../src/sessions.js";
import { ECB_OUTPUT, V2_OUTPUT } from "./offline-fixtures.js";

const TODAY = "2025-03-12";
const FIRST_RATE_DATE = "1999-01-04";

/** 1 EUR = x, for the currencies each list publishes. */
const RATES: Record<string, number> = {
  EUR: 1, USD: 1.0845, GBP: 0.8412, JPY: 162.45, CHF: 0.9412, CAD: 1.4703, AUD: 1.6512, MXN: 21.876, PHP: 62.1, SEK: 11.289,
  NOK: 11.645, DKK: 7.4589, INR: 90.115, BRL: 6.3021, PLN: 4.2561, CZK: 25.123, NZD: 1.8234, ZAR: 19.734,
};
const V2_EXTRA: Record<string, number> = { AED: 3.983, NGN: 1650.2, ARS: 1120.5, CLP: 1020.4, COP: 4410.7, KES: 140.1, UGX: 4020.3, EGP: 53.2, VND: 27500, XAU: 0.00041 };
const round = (n: number): number => Number(n.toPrecision(5));

const SPECS: ToolSpec[] = [
  { name: "get_exchange_rate", description: "Converts an amount between two currencies with the European Central Bank reference rate (via the Frankfurter API), for the latest working day or a past date.", inputSchema: { type: "object" } },
  { name: "get_exchange_rate_history", description: "Daily ECB reference rates between two currencies over a date range (working days only), at most 366 days per call: split longer periods into several calls.", inputSchema: { type: "object" } },
  { name: "list_currencies", description: "Lists the currencies that have ECB reference rates (ISO 4217 code and name).", inputSchema: { type: "object" } },
];

const isDate = (s: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

class RateTools implements ToolHost {
  calls: Array<{ name: string; args: Record<string, unknown> }> = [];
  down = false;
  constructor(
    private readonly version: "v1" | "v2" = "v1",
    private readonly offered: string[] = SPECS.map((s) => s.name),
  ) {}

  async listTools(): Promise<ToolSpec[]> {
    return SPECS.filter((s) => this.offered.includes(s.name));
  }

  rate(code: string): number | undefined {
    return RATES[code] ?? (this.version === "v2" ? V2_EXTRA[code] : undefined);
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    this.calls.push({ name, args });
    const fail = (text: string): ToolOutcome => ({ isError: true, text });
    if (this.down) return fail(this.version === "v1" ? "The exchange-rate service failed (HTTP 503)" : "The exchange-rate service cannot be reached right now");
    if (name === "list_currencies") {
      const structured = this.version === "v1" ? ECB_OUTPUT : V2_OUTPUT;
      return { isError: false, text: "currencies", structured: structured as Record<string, unknown> };
    }
    const from = String(args.currency_from ?? "USD").toUpperCase();
    const to = String(args.currency_to ?? "EUR").toUpperCase();
    if (![from, to].every((c) => /^[A-Z]{3}$/.test(c))) return fail("MCP error -32602: Input validation error: must be a 3-letter ISO 4217 currency code, e.g. USD");
    if (name === "get_exchange_rate") {
      const date = String(args.currency_date ?? "latest");
      const amount = Number(args.amount ?? 1);
      if (!(amount > 0) || amount > 1e15) return fail("MCP error -32602: Input validation error: amount must be greater than 0");
      if (date !== "latest" && !isDate(date)) return fail("MCP error -32602: Input validation error: currency_date is not a real calendar date");
      if (date !== "latest" && date < FIRST_RATE_DATE) return fail(`currency_date ${date} is too early: ECB reference rates start on ${FIRST_RATE_DATE}`);
      if (date > TODAY && date !== "latest") return fail(`currency_date ${date} is in the future`);
      const f = this.rate(from);
      const t = this.rate(to);
      if (f === undefined || t === undefined) {
        return fail(`No exchange rate found for ${from} to ${to} on ${date}: unknown currency code, or no ECB rates for that date`);
      }
      // Weekends carry the Friday before, as Frankfurter does.
      const rateDate = date === "latest" ? "2025-03-11" : date === "2024-01-14" ? "2024-01-12" : date;
      const structured: Record<string, unknown> = { amount, base: from, date: rateDate, rates: { [to]: round((amount * t) / f) } };
      if (this.version === "v2") Object.assign(structured, { quote: to, rate: t / f, providers: ["ECB", "CBN"], source_url: "https://api.frankfurter.dev/v2/rate" });
      return { isError: false, text: "converted", structured };
    }
    if (name === "get_exchange_rate_history") {
      const start = String(args.start_date);
      const end = String(args.end_date ?? TODAY);
      if (start < FIRST_RATE_DATE) return fail(`start_date ${start} is too early: ECB reference rates start on ${FIRST_RATE_DATE}`);
      if ((Date.parse(end) - Date.parse(start)) / 86_400_000 > 366) return fail(`The range ${start}..${end} is longer than 366 days: split it into several calls`);
      const f = this.rate(from);
      const t = this.rate(to);
      if (f === undefined || t === undefined) return fail(`No exchange rate found for ${from} to ${to} from ${start}: unknown currency code, or no ECB rates for that date`);
      const rates = { [start]: { [to]: round(t / f) }, [end]: { [to]: round((t / f) * 1.01) } };
      return { isError: false, text: "history", structured: { amount: 1, base: from, start_date: start, end_date: end, rates } };
    }
    return fail(`MCP error -32602: Tool ${name} not found`);
  }
}

interface Clock {
  ms: number;
}

function setup(tools = new RateTools(), clock: Clock = { ms: 0 }) {
  const model = new OfflineModel(() => TODAY, { now: () => clock.ms, catalogTtlMs: 60_000 });
  const store = new MemorySessionStore({ ttlMs: 600_000, maxSessions: 100, maxMessages: 40 });
  const chat = new ChatService({ model, tools, store, logger: silentLogger, app: "test" });
  let n = 0;
  const ask = async (message: string, sessionId = `s-${n++}`) => {
    const before = tools.calls.length;
    const r = await chat.runTurn({ userId: "u", sessionId }, message);
    return { text: r.response, calls: tools.calls.slice(before), records: r.toolCalls };
  };
  return { ask, tools, clock, model };
}

/** Words users must never see: tool names, the protocol, HTTP statuses, addresses, parameter names. */
const INTERNAL = /get_exchange_rate|list_currencies|_history|\bMCP\b|\bHTTP\b|\bstatus\b|(?<![\d.,])(?:401|403|404|422|429|500|502|503|504)(?![\d.,]| [A-Z]{3})|https?:|\/v[12]\b|currency_(?:from|to|date)|start_date|end_date|-3260\d|\bundefined\b|= NaN|\bNaN [A-Z]{3}\b|\[object/;

describe("offline model, through the chat loop", () => {
  it("converts with one lookup when the currencies are common ones", async () => {
    const { ask } = setup();
    const r = await ask("What is 100 USD in EUR?");
    assert.equal(r.text, "100 USD = 92.208 EUR, at the ECB reference rate of 2025-03-11.");
    assert.deepEqual(r.calls.map((c) => c.name), ["get_exchange_rate"]);
  });

  it("answers every target of a question", async () => {
    const { ask } = setup();
    const r = await ask("100 USD to EUR and GBP");
    assert.deepEqual(r.calls.map((c) => c.args.currency_to), ["EUR", "GBP"]);
    assert.equal(r.text, "100 USD = 92.208 EUR and 100 USD = 77.566 GBP, at the ECB reference rates of 2025-03-11.");
    const three = await ask("convert 10 euros to dollars, pounds and yen");
    for (const part of ["10 EUR = 10.845 USD", "10 EUR = 8.412 GBP", "10 EUR = 1624.5 JPY"]) assert.ok(three.text.includes(part), three.text);
  });

  it("never converts a currency the user did not name: unknown ones are checked against the list", async () => {
    const { ask } = setup();
    const bitcoin = await ask("How much is 1 bitcoin in EUR?");
    assert.deepEqual(bitcoin.calls.map((c) => c.name), ["list_currencies"]);
    assert.equal(bitcoin.text, `"bitcoin" isn't a currency the exchange-rate source publishes, so I can't convert it. Ask "which currencies do you know?" to see the ones it has.`);
    // The list is cached now: no second fetch, and no lookup for what it lacks.
    const xyz = await ask("100 XYZ to EUR");
    assert.deepEqual(xyz.calls, []);
    assert.match(xyz.text, /^"XYZ" isn't a currency the exchange-rate source publishes/);
    const naira = await ask("50 naira in dollars");
    assert.deepEqual(naira.calls, []);
    assert.match(naira.text, /"naira" isn't a currency/);
  });

  it("explains a failed lookup of a currency the list lacks, after fetching the list once", async () => {
    const { ask } = setup();
    const r = await ask("Convert 500 AED to USD");
    assert.deepEqual(r.calls.map((c) => c.name), ["get_exchange_rate", "list_currencies"]);
    assert.equal(r.text, `"AED" isn't a currency the exchange-rate source publishes.`);
  });

  it("knows the wider v2 set from the list, and asks which peso", async () => {
    const { ask } = setup(new RateTools("v2"));
    const aed = await ask("Convert 500 AED to USD");
    assert.ok(aed.text.startsWith("500 AED = 136.14 USD, at the exchange rate of 2025-03-11 (source: ECB, CBN)."), aed.text);
    const peso = await ask("100 pesos to EUR");
    assert.deepEqual(peso.calls.map((c) => c.name), ["list_currencies"]);
    assert.equal(peso.text, "Which peso do you mean: Mexican Peso (MXN), Philippine Peso (PHP), Argentine Peso (ARS), Chilean Peso (CLP) or Colombian Peso (COP)? Tell me the code and I'll convert it.");
    const naira = await ask("how much is 5000 naira in pounds?");
    assert.deepEqual(naira.calls.map((c) => c.name), ["get_exchange_rate"]);
    assert.match(naira.text, /^5000 NGN = 2\.5488 GBP/);
  });

  it("completes a question once the user says which currency they meant", async () => {
    const { ask } = setup();
    assert.match((await ask("100 pesos to EUR", "peso")).text, /^Which peso do you mean: Mexican Peso \(MXN\) or Philippine Peso \(PHP\)\?/);
    const r = await ask("PHP", "peso");
    assert.deepEqual(r.calls[0]!.args, { currency_from: "PHP", currency_to: "EUR", currency_date: "latest", amount: 100 });
    assert.match(r.text, /^100 PHP = 1\.6103 EUR/);
  });

  it("finds a renamed history tool and its date parameters", async () => {
    const tools = new RateTools();
    const renamed: ToolSpec = { name: "get_rate_history", description: "history", inputSchema: { type: "object", properties: { currency_from: {}, currency_to: {}, start: {}, end: {} } } };
    tools.listTools = async () => [SPECS[0]!, renamed];
    const inner = tools.callTool.bind(tools);
    tools.callTool = (name, args) => inner(name === "get_rate_history" ? "get_exchange_rate_history" : name, { ...args, start_date: args.start, end_date: args.end });
    const { ask } = setup(tools);
    const r = await ask("USD to GBP history for the last week");
    assert.deepEqual(r.calls[0]!.args, { currency_from: "USD", currency_to: "GBP", start: "2025-03-05", end: TODAY, start_date: "2025-03-05", end_date: TODAY });
    assert.match(r.text, /^USD to GBP from 2025-03-05 to 2025-03-12/);
  });

  it("fetches the list again only after its time is up", async () => {
    const { ask, clock, tools } = setup();
    await ask("How much is 1 bitcoin in EUR?");
    await ask("100 pesos to EUR");
    assert.equal(tools.calls.filter((c) => c.name === "list_currencies").length, 1);
    clock.ms += 61_000;
    await ask("100 pesos to EUR");
    assert.equal(tools.calls.filter((c) => c.name === "list_currencies").length, 2);
  });

  it("lists the currencies, and answers whether it knows one", async () => {
    const { ask } = setup();
    const all = await ask("Which currencies do you know?");
    assert.deepEqual(all.calls.map((c) => c.name), ["list_currencies"]);
    assert.match(all.text, /^I know 31 currencies: AUD \(Australian Dollar\), BGN \(Bulgarian Lev\),/);
    assert.equal((await ask("do you know naira?")).text, `No: "naira" isn't a currency the exchange-rate source publishes.`);
    assert.equal((await ask("do you support the swiss franc?")).text, "Yes: Swiss Franc (CHF) is one of the 31 currencies I can convert.");
    const v2 = setup(new RateTools("v2"));
    const many = await v2.ask("list all currencies");
    assert.match(many.text, /^I know 41 currencies: AUD, BGN, .*AED, NGN, .*\. Ask about any of them by code or by name\.$/);
  });

  it("reads dates and never takes a year for the amount", async () => {
    const { ask } = setup();
    const xmas = await ask("What was 100 USD in EUR on christmas 2023?");
    assert.deepEqual(xmas.calls[0]!.args, { currency_from: "USD", currency_to: "EUR", currency_date: "2023-12-25", amount: 100 });
    assert.equal(xmas.text, "100 USD = 92.208 EUR, at the ECB reference rate of 2023-12-25.");
    const sunday = await ask("1 EUR in USD on 14 January 2024");
    assert.equal(sunday.text, "1 EUR = 1.0845 USD, at the ECB reference rate of 2024-01-12 (the closest earlier day with rates to 2024-01-14).");
    assert.equal((await ask("USD to EUR on 01/02/2024")).text, `"01/02/2024" could be read as two different dates (day/month or month/day). Write it like 2024-01-15 or 15 January 2024.`);
    assert.equal((await ask("100 USD in EUR on the 5th")).text, `I couldn't read the date "the 5th". Write it like 2024-01-15, 15 January 2024 or "yesterday".`);
    const early = await ask("100 USD in EUR on 1990-05-01");
    assert.equal(early.text, "There are no USD to EUR rates on 1990-05-01: the rates start on 1999-01-04.");
  });

  it("declines odd amounts instead of converting another one", async () => {
    const { ask, tools } = setup();
    const cases: Array<[string, RegExp]> = [
      ["0 USD", /more than zero/],
      ["NaN USD", /"NaN" isn't an amount I can convert/],
      ["-5 USD", /only convert positive amounts, and -5 isn't one/],
      ["1e308 USD", /"1e308" is more than I can convert/],
    ];
    for (const [message, expected] of cases) assert.match((await ask(message)).text, expected, message);
    assert.deepEqual(tools.calls, []);
  });

  it("clamps absurd history periods instead of failing", async () => {
    const { ask } = setup();
    for (const message of ["USD to EUR history for the last 300000 years", "USD to EUR history for the last 99999 years"]) {
      const r = await ask(message);
      assert.deepEqual(r.calls[0]!.args, { currency_from: "USD", currency_to: "EUR", start_date: "2024-03-11", end_date: TODAY });
      assert.match(r.text, /^I can show at most a year of rates at a time, so here is the last year of that period\. USD to EUR from 2024-03-11 to 2025-03-12 \(2 days with ECB reference rates\): 0\.92208 on 2024-03-11, 0\.9313 on 2025-03-12 \(\+1\.00%\)/);
    }
  });

  it("answers follow-ups from the conversation's history", async () => {
    const { ask } = setup();
    const first = await ask("What is 100 USD in EUR?", "conv");
    assert.match(first.text, /^100 USD = 92\.208 EUR/);
    assert.match((await ask("and in GBP?", "conv")).text, /^100 USD = 77\.566 GBP/);
    assert.match((await ask("what about 250?", "conv")).text, /^250 USD = 193\.91 GBP/);
    const dated = await ask("and on 2024-01-15?", "conv");
    assert.deepEqual(dated.calls[0]!.args, { currency_from: "USD", currency_to: "GBP", currency_date: "2024-01-15", amount: 250 });
    // Another conversation does not see this one.
    assert.equal((await ask("and in GBP?", "other")).text, `Which currency should I convert into GBP? For example: "100 USD in GBP".`);
    // A question that asked for the target is completed by the next message.
    assert.equal((await ask("50 dollars", "conv2")).text, `Which currency should I convert 50 USD into? For example: "50 USD in EUR".`);
    assert.match((await ask("in yen", "conv2")).text, /^50 USD = 7489\.6 JPY/);
  });

  it("speaks of exchange rates only: no tool names, protocol, statuses or addresses, whatever fails", async () => {
    const messages = [
      "What is 100 USD in EUR?", "100 USD to EUR and GBP", "How much is 1 bitcoin in EUR?", "100 XYZ to EUR", "Convert 500 AED to USD",
      "What was 100 USD in EUR on christmas 2023?", "USD to GBP history for the last week", "which currencies do you know?",
      "0 USD", "-5 USD", "NaN USD", "1e308 USD", "USD to EUR history for the last 300000 years", "100 USD in EUR on 1990-05-01",
      "100 USD in EUR on 2030-01-01", "USD to EUR from 2010-01-01 to 2020-01-01", "hello", "What is the exchange rate?", "100 pesos to EUR",
      "$".repeat(8000), "and in GBP?",
    ];
    for (const version of ["v1", "v2"] as const) {
      for (const down of [false, true]) {
        const tools = new RateTools(version);
        tools.down = down;
        const { ask } = setup(tools);
        for (const message of messages) {
          const { text } = await ask(message);
          assert.ok(text.length > 0, message);
          assert.doesNotMatch(text, INTERNAL, `${version}${down ? " down" : ""}: ${JSON.stringify(message.slice(0, 40))} → ${text}`);
        }
      }
    }
  });

  it("says plainly when the rate source cannot be reached", async () => {
    const tools = new RateTools();
    tools.down = true;
    const { ask } = setup(tools);
    assert.equal((await ask("What is 100 USD in EUR?")).text, "I couldn't reach the exchange-rate source just now, so I don't have the USD to EUR rate; please try again in a moment.");
    assert.equal((await ask("which currencies do you know?")).text, "I couldn't get the list of currencies just now; please try again in a moment.");
    // Without the list it still names what it cannot check, and converts nothing else.
    assert.match((await ask("How much is 1 bitcoin in EUR?")).text, /^I don't know "bitcoin" as a currency I can look up/);
  });

  it("works with only the rate tool offered", async () => {
    const { ask } = setup(new RateTools("v1", ["get_exchange_rate"]));
    assert.match((await ask("What is 1 USD in EUR?")).text, /^1 USD = 0\.92208 EUR/);
    assert.match((await ask("USD to GBP history for the last week")).text, /can't look up exchange rates right now/);
    assert.match((await ask("How much is 1 bitcoin in EUR?")).text, /I don't know "bitcoin"/);
  });

  it("keeps working when the chat loop's tool call itself fails", async () => {
    const tools = new RateTools();
    tools.callTool = async (name, args) => {
      tools.calls.push({ name, args });
      throw new Error("MCP error -32000: Connection closed at http://10.0.0.1:8081/sse");
    };
    const { ask } = setup(tools);
    const r = await ask("What is 100 USD in EUR?");
    assert.equal(r.text, "I couldn't reach the exchange-rate source just now, so I don't have the USD to EUR rate; please try again in a moment.");
  });
});
