// The offline model through the real chat loop, against tools that answer as the mcp-server's do
// (mcp-server/src/tools/*.ts, validation.ts and common.ts as of this commit): the same input schema
// and checks, the declared output shapes and the error texts, with Frankfurter v1 (ECB) or v2 rates.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { turn, turnDeps } from "../../test/support/agent.js";
import { NAMES, V2_CURRENCIES } from "../../test/support/frankfurter.js";
import { OfflineModel } from "../src/models/offline.js";
import type { ToolSpec } from "../src/models/types.js";
import type { ToolHost, ToolOutcome } from "../src/turn/index.js";

const TODAY = "2025-03-12";
const LATEST = "2025-03-11";
const FIRST_RATE_DATE = "1999-01-04";

/** The v2 names the Frankfurter stand-in lists (the real ones); NAMES is its v1 (ECB) set. */
const V2_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(V2_CURRENCIES).map(([code, c]) => [code, c.name]),
);
/** 1 EUR = x; currencies without a rate here get 2. */
const RATES: Record<string, number> = {
  EUR: 1,
  USD: 1.0845,
  GBP: 0.8412,
  JPY: 162.45,
  CHF: 0.9412,
  MXN: 21.876,
  PHP: 62.1,
  AED: 3.983,
  NGN: 1650.2,
};
const round = (n: number): number => Number(n.toPrecision(5));
const isDate = (s: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

const SPECS: ToolSpec[] = [
  {
    name: "get_exchange_rate",
    description: "Converts an amount between two currencies",
    inputSchema: {
      type: "object",
      properties: { currency_from: {}, currency_to: {}, currency_date: {}, amount: {} },
    },
  },
  {
    name: "get_exchange_rate_history",
    description: "Daily rates over a range",
    inputSchema: {
      type: "object",
      properties: { currency_from: {}, currency_to: {}, start_date: {}, end_date: {} },
    },
  },
  {
    name: "list_currencies",
    description: "Lists the currencies there are rates for",
    inputSchema: { type: "object", properties: {} },
  },
];

class RateTools implements ToolHost {
  calls: Array<{ name: string; args: Record<string, unknown> }> = [];
  down = false;
  /** Answer with the text only, as a server without structuredContent would. */
  textOnly = false;
  constructor(
    private readonly version: "v1" | "v2" = "v1",
    private readonly specs: ToolSpec[] = SPECS,
  ) {}

  get currencies(): Readonly<Record<string, string>> {
    return this.version === "v1" ? NAMES : V2_NAMES;
  }
  get source(): string {
    return this.version === "v1"
      ? "ECB reference rate"
      : "blended rate from central banks via Frankfurter";
  }

  async listTools(): Promise<ToolSpec[]> {
    return this.specs;
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    this.calls.push({ name, args });
    const out = this.#answer(name, args);
    return this.textOnly ? { isError: out.isError, text: out.text } : out;
  }

  #answer(name: string, args: Record<string, unknown>): ToolOutcome {
    const fail = (text: string): ToolOutcome => ({ isError: true, text });
    if (this.down) return fail("The exchange-rate service cannot be reached right now");
    if (name === "list_currencies") {
      const details = Object.entries(this.currencies).map(([code, name]) => ({ code, name }));
      const text = `${details.length} currencies (${this.source}):\n${details.map((c) => `${c.code} ${c.name}`).join("\n")}`;
      return {
        isError: false,
        text,
        structured: { currencies: this.currencies, details, source: this.source },
      };
    }
    // An unknown tool is a JSON-RPC error, which the client throws.
    if (name !== "get_exchange_rate") throw new Error(`MCP error -32602: Tool ${name} not found`);
    // The SDK's input validation, as a tool error: "Input validation error: Invalid arguments for tool …".
    const invalid = (field: string, problem: string): ToolOutcome =>
      fail(`Input validation error: Invalid arguments for tool ${name}: ${field}: ${problem}`);
    const {
      currency_from = "USD",
      currency_to = "EUR",
      currency_date = "latest",
      amount = 1,
    } = args;
    for (const [field, c] of [
      ["currency_from", currency_from],
      ["currency_to", currency_to],
    ] as const) {
      if (typeof c !== "string" || !/^[A-Za-z]{3}$/.test(c.trim()))
        return invalid(field, "must be a 3-letter ISO 4217 currency code, e.g. USD");
    }
    if (typeof amount !== "number" || !(amount > 0))
      return invalid("amount", "must be greater than 0");
    if (amount > 1e15) return invalid("amount", "is too large");
    const date = String(currency_date);
    if (date !== "latest" && !isDate(date))
      return invalid("currency_date", "is not a real calendar date");
    if (date !== "latest" && date < FIRST_RATE_DATE)
      return fail(
        `currency_date ${date} is too early: ECB reference rates start on ${FIRST_RATE_DATE}`,
      );
    if (date !== "latest" && date > TODAY) return fail(`currency_date ${date} is in the future`);
    const [from, to] = [
      String(currency_from).trim().toUpperCase(),
      String(currency_to).trim().toUpperCase(),
    ];
    const pair = `${from} to ${to}`;
    const missing = [from, to].filter((c) => !(c in this.currencies));
    if (missing.length) {
      return fail(
        this.version === "v1"
          ? `No exchange rate found for ${pair} ${date === "latest" ? "(latest)" : `on ${date}`}: unknown currency code, or no ECB rates for that date`
          : `No exchange rate found for ${pair}: ${missing.join(" and ")} ${missing.length > 1 ? "have" : "has"} no rates (an unknown currency or one no source publishes)`,
      );
    }
    // Weekends carry the Friday before, as Frankfurter does.
    const day = date === "latest" ? LATEST : date === "2024-01-14" ? "2024-01-12" : date;
    const rate = round((RATES[to] ?? 2) / (RATES[from] ?? 2));
    const converted = round(amount * rate);
    const structured = {
      amount,
      base: from,
      date: day,
      rates: { [to]: converted },
      quote: to,
      rate,
      source: this.source,
    };
    return {
      isError: false,
      text: `${amount} ${from} = ${converted} ${to} on ${day} (1 ${from} = ${rate} ${to}; ${this.source})`,
      structured,
    };
  }
}

function setup(tools = new RateTools(), clock = { ms: 0 }) {
  const model = new OfflineModel({ now: () => clock.ms, catalogTtlMs: 60_000 });
  const deps = turnDeps(model, tools);
  let n = 0;
  const ask = async (message: string, sessionId = `s-${n++}`) => {
    const before = tools.calls.length;
    const r = await turn(deps, { userId: "u", sessionId }, message);
    const calls = tools.calls.slice(before);
    return {
      text: r.response,
      calls,
      names: calls.map((c) => c.name),
      rates: calls.filter((c) => c.name === "get_exchange_rate").map((c) => c.args),
    };
  };
  return { ask, tools, clock };
}

/** The call the model should make: the date only when one was asked for. */
const convert = (
  currency_from: string,
  currency_to: string,
  amount = 1,
  currency_date?: string,
) => ({ currency_from, currency_to, amount, ...(currency_date && { currency_date }) });

describe("offline model: reading a conversion", () => {
  it("converts with one lookup and words the tool's declared output", async () => {
    const { ask } = setup();
    const r = await ask("What is 100 USD in EUR?");
    assert.deepEqual(r.names, ["get_exchange_rate"]);
    assert.deepEqual(r.rates, [convert("USD", "EUR", 100)]);
    assert.equal(r.text, "100 USD = 92.208 EUR on 2025-03-11 (ECB reference rate).");
  });

  it("reads amounts with thousands separators or a symbol attached, and none as 1", async () => {
    const { ask } = setup();
    assert.deepEqual((await ask("convert 2,400.25 USD to EUR")).rates, [
      convert("USD", "EUR", 2400.25),
    ]);
    assert.deepEqual((await ask("€30 in dollars")).rates, [convert("EUR", "USD", 30)]);
    assert.deepEqual((await ask("$5 to GBP")).rates, [convert("USD", "GBP", 5)]);
    assert.deepEqual((await ask("usd to eur")).rates, [convert("USD", "EUR", 1)]);
  });

  it("reads codes, common words and symbols, and the list's names in singular or plural", async () => {
    const { ask } = setup();
    assert.deepEqual((await ask("50 pounds to yen")).rates, [convert("GBP", "JPY", 50)]);
    assert.deepEqual((await ask("£20 in ¥")).rates, [convert("GBP", "JPY", 20)]);
    assert.deepEqual((await ask("10 euro in dollar")).rates, [convert("EUR", "USD", 10)]);
    assert.deepEqual((await ask("100 SEK to NOK")).rates, [convert("SEK", "NOK", 100)]);
    // Names only the list gives: it is fetched once, then the names are known.
    const swiss = await ask("How many Swiss francs is 40 euros?");
    assert.deepEqual(swiss.names, ["list_currencies", "get_exchange_rate"]);
    assert.deepEqual(swiss.rates, [convert("EUR", "CHF", 40)]);
    const yen = await ask("1000 Japanese yen in Polish zloty");
    assert.deepEqual(yen.names, ["get_exchange_rate"]);
    assert.deepEqual(yen.rates, [convert("JPY", "PLN", 1000)]);
    assert.deepEqual((await ask("3 Mexican pesos in euros")).rates, [convert("MXN", "EUR", 3)]);
    assert.deepEqual((await ask("7 CZK in INR")).rates, [convert("CZK", "INR", 7)]);
    assert.match((await ask("XYZ to EUR")).text, /^I don't know the currency "XYZ"/);
    // A listed code that is an English word, in lower case: a code where one goes.
    const v2 = setup(new RateTools("v2"));
    assert.deepEqual((await v2.ask("100 usd to try")).rates, [convert("USD", "TRY", 100)]);
  });

  it("reads a word as a currency only where one goes", async () => {
    const { ask } = setup();
    await ask("which currencies do you know?");
    // "won" and "real" are last words of listed names (South Korean Won, Brazilian Real).
    assert.deepEqual((await ask("I won 100 dollars, what is that in euros?")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("what is the real value of 100 USD in EUR")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("1000 won in USD")).rates, [convert("KRW", "USD", 1000)]);
    assert.deepEqual((await ask("I have 5 kids and 100 USD, how much in EUR?")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("I want to convert 100 USD to EUR")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("HOW MUCH IS 100 USD IN EUR?")).rates, [
      convert("USD", "EUR", 100),
    ]);
  });

  it("takes the currency next to the amount as the source, whatever the order", async () => {
    const { ask } = setup();
    assert.deepEqual((await ask("How many euros is 100 dollars?")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("In yen, what is €20?")).rates, [convert("EUR", "JPY", 20)]);
    assert.deepEqual((await ask("How much is 99.99 in GBP from USD")).rates, [
      convert("USD", "GBP", 99.99),
    ]);
    assert.deepEqual((await ask("EUR to CHF rate")).rates, [convert("EUR", "CHF")]);
    assert.deepEqual((await ask("rate of the pound in yen")).rates, [convert("GBP", "JPY")]);
  });

  it("converts into several targets with parallel calls in one step", async () => {
    const { ask } = setup();
    const r = await ask("100 USD in EUR and GBP");
    assert.deepEqual(r.rates, [convert("USD", "EUR", 100), convert("USD", "GBP", 100)]);
    assert.equal(
      r.text,
      "100 USD = 92.208 EUR on 2025-03-11 (ECB reference rate). 100 USD = 77.566 GBP on 2025-03-11 (ECB reference rate).",
    );
    // One model step asks for both, so the chat loop runs them side by side.
    const step = await new OfflineModel().generate({
      system: "",
      contents: [{ role: "user", parts: [{ text: "100 USD in EUR and GBP" }] }],
      tools: SPECS,
    });
    assert.deepEqual(
      step.functionCalls?.map((c) => c.args.currency_to),
      ["EUR", "GBP"],
    );
    const three = await ask("convert 10 euros to dollars, pounds and yen");
    assert.deepEqual(
      three.rates.map((a) => a.currency_to),
      ["USD", "GBP", "JPY"],
    );
    const many = await ask("USD to EUR, GBP, JPY, CHF, CAD, AUD, NZD, CNY, HKD, SGD and SEK");
    assert.deepEqual(many.calls, []);
    assert.equal(
      many.text,
      "I can convert into at most 10 currencies at once; please ask for fewer.",
    );
  });

  it("reads a date as YYYY-MM-DD or 15 January 2024, and says when the rate is from an earlier day", async () => {
    const { ask } = setup();
    assert.deepEqual((await ask("EUR to CHF rate on 2024-01-15")).rates, [
      convert("EUR", "CHF", 1, "2024-01-15"),
    ]);
    assert.deepEqual((await ask("What was 2023 USD in EUR on 15 January 2024?")).rates, [
      convert("USD", "EUR", 2023, "2024-01-15"),
    ]);
    const sunday = await ask("1 EUR in USD on 14 January 2024");
    assert.equal(
      sunday.text,
      "1 EUR = 1.0845 USD on 2024-01-12, the latest rate on or before 2024-01-14 (ECB reference rate).",
    );
  });

  it("hostile input: long messages and Object property names are only words", async () => {
    const { ask } = setup();
    const t0 = Date.now();
    assert.match((await ask("$".repeat(8000))).text, /offline mode/);
    assert.deepEqual((await ask(`100 USD to EUR ${"x ".repeat(10_000)}`)).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.deepEqual((await ask("__proto__ constructor toString 100 USD in EUR")).rates, [
      convert("USD", "EUR", 100),
    ]);
    assert.ok(Date.now() - t0 < 2000);
  });

  it("never throws, and plans only well-formed calls, for messages built from currency words, numbers and junk (seeded)", async () => {
    const pool = [
      "100",
      "0",
      "-5",
      "1e308",
      "2,500.50",
      "2024",
      "USD",
      "eur",
      "XYZ",
      "dollars",
      "pesos",
      "Swiss",
      "francs",
      "bitcoin",
      "$",
      "€",
      "to",
      "in",
      "from",
      "and",
      "2024-01-15",
      "15 January 2024",
      "what about",
      "?",
      "constructor",
      "__proto__",
      "ü",
      "💶",
      "which currencies",
    ];
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const tools = new RateTools();
    const model = new OfflineModel();
    const catalog = {
      role: "user" as const,
      parts: [
        {
          functionResponse: {
            name: "list_currencies",
            response: { output: { currencies: NAMES } },
          },
        },
      ],
    };
    for (let n = 0; n < 1000; n++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 8) },
        () => pool[Math.floor(random() * pool.length)],
      ).join(" ");
      const listed =
        random() < 0.5
          ? [
              {
                role: "model" as const,
                parts: [{ functionCall: { name: "list_currencies", args: {} } }],
              },
              catalog,
            ]
          : [];
      const reply = await model.generate({
        system: "",
        tools: await tools.listTools(),
        contents: [
          { role: "user", parts: [{ text: "What is 100 USD in EUR?" }] },
          { role: "user", parts: [{ text }] },
          ...listed,
        ],
      });
      assert.ok(reply.text || reply.functionCalls?.length, text);
      for (const c of reply.functionCalls ?? []) {
        if (c.name === "list_currencies") continue;
        assert.equal(c.name, "get_exchange_rate", text);
        assert.match(`${c.args.currency_from} ${c.args.currency_to}`, /^[A-Z]{3} [A-Z]{3}$/, text);
        assert.ok(
          typeof c.args.amount === "number" &&
            (c.args.currency_date === undefined ||
              /^\d{4}-\d{2}-\d{2}$/.test(String(c.args.currency_date))),
          text,
        );
      }
    }
  });
});

describe("offline model: currencies from the list", () => {
  it("lists the currencies: the count and some codes", async () => {
    const { ask } = setup();
    const r = await ask("Which currencies do you know?");
    assert.deepEqual(r.names, ["list_currencies"]);
    assert.match(r.text, /^I know 21 currencies, e\.g\. AUD, BRL, CAD, CHF,/);
    const v2 = setup(new RateTools("v2"));
    assert.match((await v2.ask("list currencies")).text, /^I know 33 currencies/);
  });

  it("names an unknown currency and converts nothing else", async () => {
    const { ask } = setup();
    const bitcoin = await ask("How much is 1 bitcoin in EUR?");
    assert.deepEqual(bitcoin.names, ["list_currencies"]);
    assert.match(
      bitcoin.text,
      /^I don't know the currency "bitcoin", so I haven't converted anything\./,
    );
    // The list is cached now: no call at all for what it lacks.
    const xyz = await ask("100 XYZ to EUR");
    assert.deepEqual(xyz.names, []);
    assert.match(xyz.text, /^I don't know the currency "XYZ"/);
    assert.match(
      (await ask("convert 100 USD to doubloons")).text,
      /^I don't know the currency "doubloons"/,
    );
    assert.match((await ask("50 naira in dollars")).text, /^I don't know the currency "naira"/);
  });

  it("without a list, passes a code through and reports the server's not-found error", async () => {
    const { ask } = setup(new RateTools("v1", [SPECS[0]!]));
    const r = await ask("Convert 500 AED to USD");
    assert.deepEqual(r.rates, [convert("AED", "USD", 500)]);
    assert.equal(
      r.text,
      "I couldn't convert AED to USD: No exchange rate found for AED to USD (latest): unknown currency code, or no ECB rates for that date.",
    );
    assert.match((await ask("1 bitcoin in EUR")).text, /^I don't know the currency "bitcoin"/);
  });

  it("knows the wider v2 set from the list", async () => {
    const { ask } = setup(new RateTools("v2"));
    const aed = await ask("Convert 500 AED to USD");
    assert.deepEqual(aed.names, ["list_currencies", "get_exchange_rate"]);
    assert.equal(
      aed.text,
      "500 AED = 136.14 USD on 2025-03-11 (blended rate from central banks via Frankfurter).",
    );
    assert.deepEqual((await ask("how much is 5000 naira in pounds?")).rates, [
      convert("NGN", "GBP", 5000),
    ]);
    assert.deepEqual((await ask("15 Egyptian pounds in USD")).rates, [convert("EGP", "USD", 15)]);
  });

  it("asks which currency an ambiguous name means, and completes the question with the answer", async () => {
    const { ask } = setup(new RateTools("v2"));
    const peso = await ask("100 pesos to EUR", "peso");
    assert.deepEqual(peso.names, ["list_currencies"]);
    assert.equal(
      peso.text,
      "Which peso do you mean: Argentine Peso (ARS), Chilean Peso (CLP), Colombian Peso (COP), Mexican Peso (MXN) or Philippine Peso (PHP)? Tell me the code and I'll convert it.",
    );
    assert.deepEqual((await ask("PHP", "peso")).rates, [convert("PHP", "EUR", 100)]);
    assert.match((await ask("100 EUR in pesos")).text, /^Which peso do you mean: Argentine/);
    // The v1 (ECB) list has one peso: the name is not ambiguous there.
    assert.deepEqual((await setup().ask("100 pesos to EUR")).rates, [convert("MXN", "EUR", 100)]);
  });

  it("fetches the list again only after an hour (here, the test's 60 s)", async () => {
    const { ask, clock, tools } = setup();
    await ask("How much is 1 bitcoin in EUR?");
    await ask("100 pesos to EUR");
    await ask("which currencies do you know?");
    const lists = (): number => tools.calls.filter((c) => c.name === "list_currencies").length;
    assert.equal(lists(), 1);
    clock.ms += 61_000;
    await ask("100 pesos to EUR");
    assert.equal(lists(), 2);
  });

  it("keeps at most 500 currencies of a huge list", async () => {
    const tools = new RateTools();
    const huge: Record<string, string> = {};
    for (let i = 0; i < 1000; i++)
      huge[
        String.fromCharCode(65 + (i % 26), 65 + (Math.floor(i / 26) % 26), 65 + Math.floor(i / 676))
      ] = "n".repeat(100);
    tools.callTool = async () => ({
      isError: false,
      text: "",
      structured: { currencies: huge, details: [], source: "x" },
    });
    assert.match((await setup(tools).ask("list currencies")).text, /^I know 500 currencies/);
  });
});

describe("offline model: exact or asks", () => {
  it("converts only the amount written: a number it cannot read is named back, with the reading it has", async () => {
    const { ask } = setup();
    const euro = await ask("Convert €1.234,56 to £");
    assert.deepEqual(euro.calls, []);
    assert.equal(
      euro.text,
      "I couldn't read \"1.234,56\", so I haven't converted anything: I read a dot as the decimal point, commas (or nothing) between thousands, and dates as 2024-01-15 or 15 January 2024. If you mean 1234.56, write 1234.56.",
    );
    assert.deepEqual((await ask("1.234,56 EUR in USD")).calls, []);
    assert.match((await ask("12,5 EUR in USD")).text, /If you mean 12\.5, write 12\.5\.$/);
    const dots = await ask("1,234.56.7 USD to EUR");
    assert.deepEqual(dots.calls, []);
    assert.match(dots.text, /^I couldn't read "1,234\.56\.7", .* 15 January 2024\.$/);
    // Nor a number beside the amount: a date it cannot read is not dropped for the latest rate.
    const date = await ask("100 USD in EUR on 15.01.2024");
    assert.deepEqual(date.calls, []);
    assert.match(date.text, /^I couldn't read "15\.01\.2024"/);
    // The one reading it has: a dot before the decimals, commas (or nothing) between thousands.
    assert.deepEqual((await ask("1,234.56 USD to EUR")).rates, [convert("USD", "EUR", 1234.56)]);
    assert.deepEqual((await ask("1.234 USD to EUR")).rates, [convert("USD", "EUR", 1.234)]);
    assert.deepEqual((await ask("1,000,000 JPY to USD")).rates, [convert("JPY", "USD", 1e6)]);
  });

  it("an amount it could not read stays unread in follow-ups until it is written again", async () => {
    const { ask } = setup();
    await ask("Convert €1.234,56 to £", "a");
    const yen = await ask("and in yen?", "a");
    assert.deepEqual(yen.calls, []);
    assert.match(yen.text, /^I couldn't read "1\.234,56"/);
    assert.deepEqual((await ask("1234.56", "a")).rates, [convert("EUR", "JPY", 1234.56)]);
  });

  it("reads a listed name whole or by its qualifiers and their initials, never as another currency", async () => {
    const { ask } = setup(new RateTools("v2"));
    assert.deepEqual((await ask("2,400.25 US dollars in Swiss francs")).rates, [
      convert("USD", "CHF", 2400.25),
    ]);
    assert.deepEqual((await ask("How many euros is 200 US dollars?")).rates, [
      convert("USD", "EUR", 200),
    ]);
    assert.deepEqual((await ask("100 pounds sterling in euros")).rates, [
      convert("GBP", "EUR", 100),
    ]);
    assert.deepEqual((await ask("100 sterling in USD")).rates, [convert("GBP", "USD", 100)]);
    assert.deepEqual((await ask("500 United Arab Emirates dirhams in EUR")).rates, [
      convert("AED", "EUR", 500),
    ]);
    assert.deepEqual((await ask("500 UAE dirhams in EUR")).rates, [convert("AED", "EUR", 500)]);
    assert.deepEqual((await ask("1000 Korean won in Hong Kong dollars")).rates, [
      convert("KRW", "HKD", 1000),
    ]);
    assert.deepEqual((await ask("100 Canadian dollars to NZ dollars")).rates, [
      convert("CAD", "NZD", 100),
    ]);
    assert.deepEqual((await ask("100 EUR in Chinese yuan")).rates, [convert("EUR", "CNY", 100)]);
    assert.deepEqual((await ask("15 Egyptian pounds in British pounds")).rates, [
      convert("EGP", "GBP", 15),
    ]);
    // A qualifier that makes no listed name is named back, not dropped ("dollars" alone is USD).
    assert.match(
      (await ask("100 Swiss dollars in EUR")).text,
      /^I don't know the currency "Swiss"/,
    );
  });

  it("reads US dollars and pounds sterling without the list too", async () => {
    const { ask } = setup(new RateTools("v1", [SPECS[0]!]));
    assert.deepEqual((await ask("200 US dollars in pounds sterling")).rates, [
      convert("USD", "GBP", 200),
    ]);
  });

  it('asks which peso "how many pesos is 20 dollars?" means, as it does for "20 dollars in pesos"', async () => {
    const { ask } = setup(new RateTools("v2"));
    const which =
      /^Which peso do you mean: Argentine Peso \(ARS\), .* or Philippine Peso \(PHP\)\?/;
    assert.match((await ask("20 dollars in pesos")).text, which);
    const r = await ask("How many pesos is 20 dollars?", "p");
    assert.deepEqual(r.rates, []);
    assert.match(r.text, which);
    assert.deepEqual((await ask("MXN", "p")).rates, [convert("USD", "MXN", 20)]);
  });

  it("never reads a number of a date as the amount: a range or a month gets the help answer", async () => {
    const { ask } = setup();
    for (const message of [
      "Show the EUR to USD rate from 2024-01-01 to 2024-01-31",
      "How did USD to JPY move in March 2023?",
      "EUR to USD in March 2023",
      "EUR to USD in 2023",
      "100 USD in EUR between 1 January 2024 and 31 January 2024",
      "USD to EUR on 15 January",
      "100 USD in EUR on January 15, 2024",
    ]) {
      const r = await ask(message);
      assert.deepEqual(r.calls, [], message);
      assert.match(r.text, /^I'm running without a language model/, message);
    }
    // A follow-up is no one day's rate either, until it names one.
    await ask("EUR to USD in March 2023", "m");
    assert.deepEqual((await ask("and in GBP?", "m")).calls, []);
    assert.deepEqual((await ask("on 2023-03-15", "m")).rates, [
      convert("EUR", "GBP", 1, "2023-03-15"),
    ]);
  });

  it("reads A$, C$, NZ$, HK$, S$ and US$ as those dollars, and names back a prefix it does not know", async () => {
    const { ask } = setup();
    assert.deepEqual((await ask("A$100 in EUR")).rates, [convert("AUD", "EUR", 100)]);
    assert.deepEqual(
      (await ask("100 EUR in C$, NZ$, hk$, S$ and US$")).rates.map((a) => a.currency_to),
      ["CAD", "NZD", "HKD", "SGD", "USD"],
    );
    const real = await ask("R$50 in EUR");
    assert.deepEqual(real.rates, []);
    assert.match(real.text, /^I don't know the currency "R\$"/);
  });

  it("names back a qualifier it does not know before dollars or pounds, wherever it stands", async () => {
    const { ask } = setup();
    for (const message of [
      "convert 100 EUR to Aussie dollars",
      "Aussie dollars to EUR",
      "What is the aussie dollar worth in EUR?",
      "100 EUR in pounds and Aussie dollars",
    ]) {
      const r = await ask(message);
      assert.deepEqual(r.rates, [], message);
      assert.match(r.text, /^I don't know the currency "Aussie"/i, message);
    }
    // Words that go before a currency are no qualifiers.
    assert.deepEqual((await ask("I want to exchange my dollars into euros")).rates, [
      convert("USD", "EUR"),
    ]);
    assert.deepEqual((await ask("How many dollars is this 100 EUR?")).rates, [
      convert("EUR", "USD", 100),
    ]);
  });

  it("converts one amount at a time: two amounts are never paired with the wrong currencies", async () => {
    const { ask } = setup();
    for (const message of [
      "5 USD in EUR and 6 in GBP",
      "100 USD and 200 EUR in GBP",
      "100 USD to EUR, 50 to GBP",
    ]) {
      const r = await ask(message);
      assert.deepEqual(r.calls, [], message);
      assert.equal(
        r.text,
        "I convert one amount at a time; please ask about each amount on its own.",
        message,
      );
    }
    // Nor does a follow-up pick one of them, until one amount is written.
    await ask("5 USD in EUR and 6 in GBP", "two");
    assert.deepEqual((await ask("and in JPY?", "two")).calls, []);
    assert.deepEqual((await ask("6", "two")).rates, [convert("USD", "JPY", 6)]);
  });
});

describe("offline model: conversations", () => {
  it("answers follow-ups from the conversation's earlier questions", async () => {
    const { ask } = setup();
    await ask("What is 100 USD in EUR?", "c");
    assert.deepEqual((await ask("and in GBP?", "c")).rates, [convert("USD", "GBP", 100)]);
    assert.deepEqual((await ask("what about JPY", "c")).rates, [convert("USD", "JPY", 100)]);
    assert.deepEqual((await ask("what about 250?", "c")).rates, [convert("USD", "JPY", 250)]);
    assert.deepEqual((await ask("and on 2024-01-15?", "c")).rates, [
      convert("USD", "JPY", 250, "2024-01-15"),
    ]);
    assert.deepEqual((await ask("what about 50 GBP?", "c")).rates, [
      convert("GBP", "JPY", 50, "2024-01-15"),
    ]);
    // A complete question starts afresh.
    assert.deepEqual((await ask("And 50 EUR in GBP?", "c")).rates, [convert("EUR", "GBP", 50)]);
    // Another conversation does not see this one.
    const other = await ask("and in GBP?", "other");
    assert.deepEqual(other.rates, []);
    assert.match(other.text, /offline mode/);
    // A question without a target is completed by the next message.
    assert.match((await ask("50 dollars", "d")).text, /offline mode/);
    assert.deepEqual((await ask("in yen", "d")).rates, [convert("USD", "JPY", 50)]);
  });

  it("a message that asks nothing gets the help text, not the last question again", async () => {
    const { ask } = setup();
    await ask("What is 100 USD in EUR?", "t");
    const r = await ask("thanks!", "t");
    assert.deepEqual(r.calls, []);
    assert.match(r.text, /offline mode/);
  });
});

describe("offline model: what it cannot do", () => {
  it("answers anything else once: what it understands, an example, and how to switch to Gemini", async () => {
    const { ask } = setup();
    for (const message of [
      "hello",
      "What's the weather in Paris?",
      "What is the exchange rate?",
      "Tell me a joke",
      "",
    ]) {
      const r = await ask(message);
      assert.deepEqual(r.calls, [], message);
      assert.match(r.text, /only convert currencies, e\.g\. "What is 100 USD in EUR\?"/, message);
      assert.match(
        r.text,
        /set GOOGLE_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT/,
        message,
      );
    }
  });

  it("reports a failed call with the tool's own error text", async () => {
    const { ask, tools } = setup();
    assert.equal(
      (await ask("100 USD in EUR on 1990-05-01")).text,
      "I couldn't convert USD to EUR: currency_date 1990-05-01 is too early: ECB reference rates start on 1999-01-04.",
    );
    assert.equal(
      (await ask("0 USD to EUR")).text,
      "I couldn't convert USD to EUR: Input validation error: Invalid arguments for tool get_exchange_rate: amount: must be greater than 0.",
    );
    // Amounts go to the tool as typed, so its checks apply: never another amount.
    assert.match((await ask("-5 USD to EUR")).text, /amount: must be greater than 0\.$/);
    assert.match((await ask("1e308 USD to EUR")).text, /amount: is too large\.$/);
    tools.down = true;
    assert.equal(
      (await ask("What is 100 USD in EUR?")).text,
      "I couldn't convert USD to EUR: The exchange-rate service cannot be reached right now.",
    );
    assert.equal(
      (await ask("which currencies do you know?")).text,
      "I couldn't get the list of currencies: The exchange-rate service cannot be reached right now.",
    );
  });

  it("reports a call the chat loop could not make", async () => {
    const tools = new RateTools();
    tools.callTool = async () => {
      throw new Error("Connection closed");
    };
    assert.equal(
      (await setup(tools).ask("What is 100 USD in EUR?")).text,
      "I couldn't convert USD to EUR: The tool could not be called: Connection closed.",
    );
  });

  it("falls back to the tool's text when there is no structured output", async () => {
    const tools = new RateTools();
    tools.textOnly = true;
    const { ask } = setup(tools);
    assert.equal(
      (await ask("What is 100 USD in EUR?")).text,
      "100 USD = 92.208 EUR on 2025-03-11 (1 USD = 0.92208 EUR; ECB reference rate).",
    );
    // The list's text form is read too.
    const v2 = new RateTools("v2");
    v2.textOnly = true;
    assert.match(
      (await setup(v2).ask("100 pesos to EUR")).text,
      /^Which peso do you mean: Argentine Peso \(ARS\), Chilean Peso \(CLP\)/,
    );
  });

  it("pointed at another MCP server, names its tools and says a language model is needed", async () => {
    const other: ToolSpec[] = [
      { name: "get_weather", inputSchema: { type: "object" } },
      { name: "search_docs", inputSchema: { type: "object" } },
    ];
    const { ask } = setup(new RateTools("v1", other));
    const r = await ask("What is 100 USD in EUR?");
    assert.deepEqual(r.calls, []);
    assert.match(r.text, /get_weather, search_docs/);
    assert.match(r.text, /needs a language model: set GOOGLE_API_KEY/);
    assert.doesNotMatch(r.text, /try again later/);
    // A tool of that name with other parameters is not the one it knows either.
    const renamed = setup(
      new RateTools("v1", [
        {
          name: "get_exchange_rate",
          inputSchema: { type: "object", properties: { base: {}, symbols: {} } },
        },
      ]),
    );
    assert.match((await renamed.ask("100 USD in EUR")).text, /needs a language model/);
  });
});
