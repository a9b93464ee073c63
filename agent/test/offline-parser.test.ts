import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readCatalog, type Catalog } from "../src/models/offline-catalog.js";
import { parseMessage, type Intent, type Question } from "../src/models/offline-parser.js";
import { ECB, ECB_OUTPUT, V2, V2_OUTPUT } from "./offline-fixtures.js";

const TODAY = "2025-03-12"; // a Wednesday

/** An intent in one line: "convert USD>EUR,GBP 100 latest", "history USD>GBP 2025-03-05..2025-03-12", … */
function simplify(i: Intent): string {
  switch (i.kind) {
    case "convert":
      return `convert ${i.from}>${i.to.join(",")} ${i.amount} ${i.date}`;
    case "history":
      return `history ${i.from}>${i.to.join(",")} ${i.start}..${i.end}${i.clamped ? " clamped" : ""}`;
    case "list":
      return i.asked.length ? `list ${i.asked.map((a) => a.code ?? `?${a.word}`).join(",")}` : "list";
    case "needs_catalog":
      return "needs_catalog";
    case "ask_target":
      return `ask_target ${i.from}${i.amount !== undefined ? ` ${i.amount}` : ""}`;
    case "ask_source":
      return `ask_source ${i.to.join(",")}`;
    case "ask_which":
      return `ask_which ${i.word} ${[...i.options].sort().join(",")}`;
    case "ask_day":
      return `ask_day ${i.raw}`;
    case "unknown_currency":
      return `unknown ${i.words.join(",")}${i.checked ? "" : " unchecked"}`;
    case "bad_amount":
      return `bad_amount ${i.problem}`;
    case "bad_date":
      return `bad_date ${i.problem} ${i.raw}`;
    case "too_many_targets":
      return "too_many_targets";
    case "decline":
      return `decline ${i.reason}`;
  }
}

const parse = (message: string, catalog: Catalog | undefined = ECB, previous?: Question): string =>
  simplify(parseMessage(message, { today: TODAY, catalog, previous }));

// Each family with several phrasings. Parsed against the ECB list unless the row names another.
type Row = [message: string, expected: string, catalog?: Catalog | "none"];
const FAMILIES: Record<string, Row[]> = {
  "plain conversions": [
    ["What is 100 USD in EUR?", "convert USD>EUR 100 latest"],
    ["convert 50 pounds to yen", "convert GBP>JPY 50 latest"],
    ["€20 in dollars", "convert EUR>USD 20 latest"],
    ["how many Swiss francs is 1,250.50 euros", "convert EUR>CHF 1250.5 latest"],
    ["usd to eur", "convert USD>EUR 1 latest"],
    ["Convert 1000 JPY into USD", "convert JPY>USD 1000 latest"],
    ["£75 to €", "convert GBP>EUR 75 latest"],
    ["What's 3.5k SEK in NOK?", "convert SEK>NOK 3500 latest"],
    ["2 million yen in euros", "convert JPY>EUR 2000000 latest"],
    ["exchange rate from CAD to AUD", "convert CAD>AUD 1 latest"],
    ["What's the exchange rate between USD and EUR?", "convert USD>EUR 1 latest"],
    ["How much is 10 Canadian dollars in US dollars?", "convert CAD>USD 10 latest"],
    ["how much yen do I get for 200 dollars", "convert USD>JPY 200 latest"],
    ["rate of the swiss franc against the euro", "convert CHF>EUR 1 latest"],
    ["₹5000 in dollars", "convert INR>USD 5000 latest"],
    ["A$300 to NZ$", "convert AUD>NZD 300 latest"],
    ["price of 40 zloty in czech koruna", "convert PLN>CZK 40 latest"],
    ["How much is 99.99 in GBP from USD", "convert USD>GBP 99.99 latest"],
    ["Convert 12,000 Mexican pesos to Brazilian reais", "convert MXN>BRL 12000 latest"],
    ["in dollars, what is €20", "convert EUR>USD 20 latest"],
    ["WHAT IS 100 USD IN EUR", "convert USD>EUR 100 latest"],
    ["100USD to EUR", "convert USD>EUR 100 latest"],
    ["convert 1e3 usd to eur", "convert USD>EUR 1000 latest"],
    ["1.250,50 EUR in USD", "convert EUR>USD 1250.5 latest"],
    ["2.000.000 JPY in EUR", "convert JPY>EUR 2000000 latest"],
    ["how many dollars per euro", "convert EUR>USD 1 latest"],
    ["$1.5 million in euros", "convert USD>EUR 1500000 latest"],
    ["one hundred dollars in euros", "convert USD>EUR 100 latest"],
    ["twenty-five pounds to euros", "convert GBP>EUR 25 latest"],
    ["a thousand yen in dollars", "convert JPY>USD 1000 latest"],
    ["two hundred and fifty euros in francs", "convert EUR>CHF 250 latest"],
    ["USD→EUR 50", "convert USD>EUR 50 latest"],
    ["USD -> EUR 50", "convert USD>EUR 50 latest"],
    ["I have 5 kids and 100 USD, how much in EUR?", "convert USD>EUR 100 latest"],
    ["I won 100 dollars, what is that in euros?", "convert USD>EUR 100 latest"],
    ["100 usd to try", "convert USD>TRY 100 latest"],
    ["I want to try converting 100 USD to EUR", "convert USD>EUR 100 latest"],
  ],
  "unknown currencies are named, never replaced": [
    ["How much is 1 bitcoin in EUR?", "unknown bitcoin"],
    ["100 XYZ to EUR", "unknown XYZ"],
    ["convert 100 USD to XYZ", "unknown XYZ"],
    ["what is 5 dogecoin worth in dollars", "unknown dogecoin"],
    ["EUR to BTC", "unknown BTC"],
    ["convert 100 USD to doubloons", "unknown doubloons"],
    ["50 naira in dollars", "unknown naira"],
    ["Convert 500 AED to USD", "unknown AED"],
    ["how much is 3 ethereum in pounds?", "unknown ethereum"],
  ],
  "names from the list, and ambiguous names": [
    ["Convert 500 AED to USD", "convert AED>USD 500 latest", V2],
    ["50 naira in dollars", "convert NGN>USD 50 latest", V2],
    ["how many dirham is 20 euros", "convert EUR>AED 20 latest", V2],
    ["250 ARS in GBP", "convert ARS>GBP 250 latest", V2],
    ["100 Argentine pesos to euros", "convert ARS>EUR 100 latest", V2],
    ["100 pesos to EUR", "ask_which peso ARS,CLP,COP,MXN,PHP", V2],
    ["100 pesos to EUR", "ask_which peso MXN,PHP"],
    ["how much is 1000 shillings in USD", "ask_which shilling KES,UGX", V2],
    ["200 krone to euro", "ask_which krone DKK,NOK"],
    ["1 gold in USD", "convert XAU>USD 1 latest", V2],
    ["15 Egyptian pounds in USD", "convert EGP>USD 15 latest", V2],
    ["15 pounds in USD", "convert GBP>USD 15 latest", V2],
    ["₦5000 to USD", "convert NGN>USD 5000 latest", V2],
  ],
  // "with the list fetchable | without any list": common currencies go straight to a lookup.
  "without the list, what needs it asks for it": [
    ["What is 100 USD in EUR?", "convert USD>EUR 100 latest|convert USD>EUR 100 latest", "none"],
    ["How much is 1 bitcoin in EUR?", "needs_catalog|unknown bitcoin unchecked", "none"],
    ["100 XYZ to EUR", "needs_catalog|convert XYZ>EUR 100 latest", "none"],
    ["100 pesos to EUR", "needs_catalog|unknown pesos unchecked", "none"],
    ["convert 100 doubloons to dollars", "needs_catalog|unknown doubloons unchecked", "none"],
    ["convert 100 naira to dollars", "convert NGN>USD 100 latest|convert NGN>USD 100 latest", "none"],
    ["Convert 500 AED to USD", "convert AED>USD 500 latest|convert AED>USD 500 latest", "none"],
    ["do you know naira?", "list NGN|list NGN", "none"],
    ["which currencies do you know?", "list|list", "none"],
  ],
  "numbers inside dates are never amounts": [
    ["What was 100 USD in EUR on christmas 2023?", "convert USD>EUR 100 2023-12-25"],
    ["EUR to CHF rate on 2024-01-15", "convert EUR>CHF 1 2024-01-15"],
    ["What was the GBP to USD rate on 15 January 2024?", "convert GBP>USD 1 2024-01-15"],
    ["GBP to USD on the 15th of January 2024", "convert GBP>USD 1 2024-01-15"],
    ["USD in JPY Jan 15 2024", "convert USD>JPY 1 2024-01-15"],
    ["EUR/USD on March 3, 2023", "convert EUR>USD 1 2023-03-03"],
    ["250 USD to EUR on 2024/02/29", "convert USD>EUR 250 2024-02-29"],
    ["50 EUR in GBP on 25/12/2023", "convert EUR>GBP 50 2023-12-25"],
    ["What was 100 euros in dollars yesterday?", "convert EUR>USD 100 2025-03-11"],
    ["20 GBP in yen last Friday", "convert GBP>JPY 20 2025-03-07"],
    ["10 usd to eur on monday", "convert USD>EUR 10 2025-03-10"],
    ["100 USD in EUR 3 days ago", "convert USD>EUR 100 2025-03-09"],
    ["100 USD in EUR a week ago", "convert USD>EUR 100 2025-03-05"],
    ["1 EUR in USD on new year's eve 2024", "convert EUR>USD 1 2024-12-31"],
    ["2000 yen in dollars on Jan 2 2024", "convert JPY>USD 2000 2024-01-02"],
    ["what was 2023 USD in EUR on 2024-01-15", "convert USD>EUR 2023 2024-01-15"],
    ["USD 2020 to EUR", "convert USD>EUR 2020 latest"],
    ["100 USD in EUR today", "convert USD>EUR 100 latest"],
    ["the USD to EUR rate for the first of March 2024", "convert USD>EUR 1 2024-03-01"],
    ["USD to JPY at the end of 2023", "convert USD>JPY 1 2023-12-31"],
    ["USD to JPY at the start of March 2024", "convert USD>JPY 1 2024-03-01"],
    ["USD to EUR on the twenty-first of January 2024", "convert USD>EUR 1 2024-01-21"],
  ],
  "dates it cannot read are said, not guessed": [
    ["USD to EUR on 01/02/2024", "bad_date ambiguous 01/02/2024"],
    ["100 USD in EUR on 2024-02-30", "bad_date invalid 2024-02-30"],
    ["100 USD in EUR on the 5th", "bad_date unreadable the 5th"],
    ["100 USD in EUR at easter", "bad_date unreadable easter"],
    ["100 USD in EUR last Tuesday of March", "bad_date unreadable March"],
    ["100 USD in EUR on 2030-01-01", "bad_date future 2030-01-01"],
    ["What was 100 USD in EUR in 2023?", "ask_day 2023"],
    ["100 USD in EUR in January 2024", "ask_day January 2024"],
  ],
  "several targets": [
    ["100 USD to EUR and GBP", "convert USD>EUR,GBP 100 latest"],
    ["convert 100 usd to euros, pounds and yen", "convert USD>EUR,GBP,JPY 100 latest"],
    ["USD in EUR, GBP, CHF and JPY", "convert USD>EUR,GBP,CHF,JPY 1 latest"],
    ["how much is €50 in dollars or pounds?", "convert EUR>USD,GBP 50 latest"],
    ["100 USD to EUR and GBP on 2024-01-15", "convert USD>EUR,GBP 100 2024-01-15"],
    ["USD to EUR and GBP history for the last week", "history USD>EUR,GBP 2025-03-05..2025-03-12"],
  ],
  histories: [
    ["USD to GBP history for the last week", "history USD>GBP 2025-03-05..2025-03-12"],
    ["show me EUR to GBP over the past 3 months", "history EUR>GBP 2024-12-12..2025-03-12"],
    ["USD/JPY history from 2024-01-01 to 2024-02-01", "history USD>JPY 2024-01-01..2024-02-01"],
    ["euro vs dollar trend since 2025-01-01", "history EUR>USD 2025-01-01..2025-03-12"],
    ["GBP EUR rates for the last 10 days", "history GBP>EUR 2025-03-02..2025-03-12"],
    ["USD to EUR from 2024-01-01 to 2024-01-31", "history USD>EUR 2024-01-01..2024-01-31"],
    ["USD to EUR in 2023", "history USD>EUR 2023-01-01..2023-12-31"],
    ["EUR to CHF history for January 2024", "history EUR>CHF 2024-01-01..2024-01-31"],
    ["USD to EUR history for the last 300000 years", "history USD>EUR 2024-03-11..2025-03-12 clamped"],
    ["USD to EUR history for the last 99999 years", "history USD>EUR 2024-03-11..2025-03-12 clamped"],
    ["USD to EUR history for the last 1e308 years", "history USD>EUR 2024-03-11..2025-03-12 clamped"],
    ["USD to EUR over the past decade", "history USD>EUR 2024-03-11..2025-03-12 clamped"],
    ["USD to EUR from 2010-01-01 to 2020-01-01", "history USD>EUR 2018-12-31..2020-01-01 clamped"],
    ["USD to EUR history", "history USD>EUR 2025-02-10..2025-03-12"],
  ],
  "amounts it declines": [
    ["0 USD to EUR", "bad_amount zero"],
    ["0 USD", "bad_amount zero"],
    ["NaN USD", "bad_amount not_a_number"],
    ["convert nan usd to eur", "bad_amount not_a_number"],
    ["Infinity EUR in USD", "bad_amount not_a_number"],
    ["-5 USD", "bad_amount negative"],
    ["convert -5 USD to EUR", "bad_amount negative"],
    ["minus 20 euros in dollars", "bad_amount negative"],
    ["1e308 USD", "bad_amount too_large"],
    ["1e400 USD to EUR", "bad_amount too_large"],
    ["9999999999999999999 JPY to USD", "bad_amount too_large"],
    ["EUR to USD 2024", "bad_amount year_or_amount"],
    ["convert EUR to USD 2020", "bad_amount year_or_amount"],
  ],
  "questions back when something is missing": [
    ["50 dollars", "ask_target USD 50"],
    ["how much is the euro", "ask_target EUR"],
    ["100 EUR to EUR", "ask_target EUR 100"],
    ["and in GBP?", "ask_source GBP"],
    ["convert to EUR", "ask_source EUR"],
    ["USD to EUR, GBP, CHF, JPY, AUD, CAD, NZD, SEK, NOK, DKK, PLN, CZK", "too_many_targets"],
  ],
  "list questions": [
    ["which currencies do you know?", "list"],
    ["list all supported currencies", "list"],
    ["What currencies are available?", "list"],
    ["do you know naira?", "list ?naira"],
    ["do you know naira?", "list NGN", V2],
    ["Is bitcoin supported?", "list ?bitcoin"],
    ["do you support the Swiss franc?", "list CHF"],
  ],
  "off topic and advice": [
    ["What's the weather in Paris?", "decline off_topic"],
    ["Tell me a joke", "decline off_topic"],
    ["What is the exchange rate?", "decline no_currency"],
    ["convert 100 to something", "decline no_currency"],
    ["Will the dollar rise against the euro next week?", "decline advice"],
    ["Should I buy yen now?", "decline advice"],
    ["", "decline empty"],
    ["hello", "decline off_topic"],
  ],
};

describe("offline parser", () => {
  for (const [family, rows] of Object.entries(FAMILIES)) {
    describe(family, () => {
      it("has several phrasings", () => assert.ok(rows.length >= 4, `${rows.length} rows`));
      for (const [message, expected, catalog] of rows) {
        const name = `${JSON.stringify(message)}${catalog === V2 ? " (v2 list)" : catalog === "none" ? " (no list yet)" : ""}`;
        it(name, () => {
          if (catalog === "none") {
            const [fetchable, alone] = expected.split("|");
            assert.equal(simplify(parseMessage(message, { today: TODAY, canFetchCatalog: true })), fetchable);
            assert.equal(simplify(parseMessage(message, { today: TODAY })), alone);
          } else assert.equal(parse(message, catalog ?? ECB), expected);
        });
      }
    });
  }
});

describe("follow-ups take what they leave out from the previous question", () => {
  const base = (m: string, catalog: Catalog = ECB): Question => {
    const i = parseMessage(m, { today: TODAY, catalog });
    assert.ok("question" in i, `${m} → ${simplify(i)}`);
    return i.question;
  };
  const rows: Array<[string, string, string]> = [
    ["What is 100 USD in EUR?", "and in GBP?", "convert USD>GBP 100 latest"],
    ["What is 100 USD in EUR?", "what about yen?", "convert USD>JPY 100 latest"],
    ["What is 100 USD in EUR?", "and GBP and CHF?", "convert USD>GBP,CHF 100 latest"],
    ["What is 100 USD in EUR?", "what about 250?", "convert USD>EUR 250 latest"],
    ["What is 100 USD in EUR?", "and 2.5k?", "convert USD>EUR 2500 latest"],
    ["What is 100 USD in EUR?", "and on 2024-01-15?", "convert USD>EUR 100 2024-01-15"],
    ["What is 100 USD in EUR?", "what about christmas 2023?", "convert USD>EUR 100 2023-12-25"],
    ["What is 100 USD in EUR?", "and yesterday?", "convert USD>EUR 100 2025-03-11"],
    ["What is 100 USD in EUR?", "what about 50 GBP?", "convert GBP>EUR 50 latest"],
    ["What is 100 USD in EUR?", "and from CHF?", "convert CHF>EUR 100 latest"],
    ["What is 100 USD in EUR?", "and 200 in yen on 2024-01-15?", "convert USD>JPY 200 2024-01-15"],
    ["100 USD to EUR on 2024-01-15", "and in GBP?", "convert USD>GBP 100 2024-01-15"],
    ["100 USD to EUR and GBP", "what about 5?", "convert USD>EUR,GBP 5 latest"],
    ["50 dollars", "in EUR", "convert USD>EUR 50 latest"],
    ["USD to GBP history for the last week", "and in EUR?", "history USD>EUR 2025-03-05..2025-03-12"],
    ["USD to GBP history for the last week", "and on 2024-01-15?", "convert USD>GBP 1 2024-01-15"],
    ["What is 100 USD in EUR?", "and -5?", "bad_amount negative"],
    ["What is 100 USD in EUR?", "and in bitcoin?", "unknown bitcoin"],
    ["What is 100 USD in EUR?", "and on 01/02/2024?", "bad_date ambiguous 01/02/2024"],
    ["What is 100 USD in EUR?", "thanks!", "decline off_topic"],
    ["What is 100 USD in EUR?", "What is 5 GBP in CHF?", "convert GBP>CHF 5 latest"],
    ["100 pesos to EUR", "MXN", "convert MXN>EUR 100 latest"],
    ["100 pesos to EUR", "the Philippine peso", "convert PHP>EUR 100 latest"],
    ["100 EUR in pesos", "MXN", "convert EUR>MXN 100 latest"],
    ["and in GBP?", "100 USD", "convert USD>GBP 100 latest"],
    ["50 dollars", "and in EUR and CHF?", "convert USD>EUR,CHF 50 latest"],
  ];
  for (const [first, next, expected] of rows) {
    it(`${JSON.stringify(first)} then ${JSON.stringify(next)}`, () => assert.equal(parse(next, ECB, base(first)), expected));
  }
  it("a naira follow-up uses the v2 list", () => assert.equal(parse("and in naira?", V2, base("What is 100 USD in EUR?", V2)), "convert USD>NGN 100 latest"));
});

describe("reading list_currencies in any shape", () => {
  const shapes: Array<[string, unknown]> = [
    ["today's {currencies: {CODE: name}}", ECB_OUTPUT],
    ["v2 style {currencies: [{iso_code, name, …}]}", V2_OUTPUT],
    ["a bare array of {code, name}", [{ code: "usd", name: "US Dollar" }, { code: "EUR", name: "Euro" }]],
    ["a map of code → {name, start_date}", { USD: { name: "US Dollar", start_date: "1999-01-04" }, EUR: { name: "Euro" } }],
    ["the text form", "2 currencies:\nUSD United States Dollar\nEUR Euro"],
    ["a list of codes", { currencies: ["USD", "EUR"] }],
  ];
  for (const [name, output] of shapes) {
    it(name, () => {
      const c = readCatalog(output);
      assert.ok(c?.codes.has("USD") && c.codes.has("EUR"), JSON.stringify([...(c?.codes ?? [])]));
    });
  }
  it("ignores what is not a currency code, and nothing usable is undefined", () => {
    assert.deepEqual([...readCatalog({ currencies: { USD: "Dollar", "not a code": "x", EURO: "y" } })!.codes.keys()], ["USD"]);
    assert.equal(readCatalog({ nothing: true }), undefined);
    assert.equal(readCatalog(null), undefined);
    assert.equal(readCatalog(42), undefined);
  });
  it("bounds a huge list in entries and name length", () => {
    const huge: Record<string, string> = {};
    for (let i = 0; i < 26 * 26 * 26; i++) huge[String.fromCharCode(65 + (i % 26), 65 + ((i / 26) | 0) % 26, 65 + ((i / 676) | 0))] = "n".repeat(10_000);
    const c = readCatalog({ currencies: huge })!;
    assert.equal(c.codes.size, 1000);
    assert.ok([...c.codes.values()].every((n) => n.length <= 80));
  });
});

describe("hostile input", () => {
  it("8,000 $ signs, and 8,000 characters of mixed symbols, parse to an answer", () => {
    assert.equal(parse("$".repeat(8000)), "ask_target USD");
    assert.equal(parse("$ ".repeat(4000)), "ask_target USD");
    assert.equal(parse("100 " + "€$".repeat(3998)), "convert EUR>USD 100 latest");
    assert.match(parse("1".repeat(7000) + " USD to EUR"), /^bad_amount too_large$/);
    assert.equal(parse("2024-01-15 ".repeat(700) + "USD to EUR"), "history USD>EUR 2024-01-15..2024-01-15");
  });
  it("words that are Object properties are only words", () => {
    assert.equal(parse("constructor"), "decline off_topic");
    assert.equal(parse("100 constructor to EUR"), "unknown constructor");
    assert.equal(parse("__proto__ toString valueOf 100 USD in EUR"), "convert USD>EUR 100 latest");
    assert.equal(parse("USD to EUR over the last hasOwnProperty"), "history USD>EUR 2025-02-10..2025-03-12");
  });
  it("never throws on messages built from currency words, numbers, dates and junk (seeded)", () => {
    const pool = [
      "100", "0", "-5", "1e308", "NaN", "2,500.50", "1.250,50", "3.5k", "one hundred", "twenty-five", "2024", "USD", "eur", "EUR", "XYZ",
      "dollars", "pesos", "naira", "bitcoin", "$", "€", "£", "US$", "to", "in", "from", "and", "per", "→", "history", "last", "300000",
      "years", "week", "2024-01-15", "01/02/2024", "15 January 2024", "christmas", "yesterday", "last Friday", "the 5th", "March",
      "what about", "and in", "?", ",", "constructor", "__proto__", "toString", "ü", "💶", "\u0000", "which currencies", "buy", "ago",
    ];
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kinds = new Set<string>();
    for (let n = 0; n < 3000; n++) {
      const words = Array.from({ length: 1 + Math.floor(random() * 9) }, () => pool[Math.floor(random() * pool.length)]!);
      const message = words.join(random() < 0.2 ? "" : " ");
      for (const catalog of [ECB, undefined]) {
        const intent = parseMessage(message, { today: TODAY, catalog, canFetchCatalog: catalog === undefined, previous: { from: "USD", to: ["EUR"], amount: 5, history: false } });
        kinds.add(intent.kind);
        if (intent.kind === "convert") {
          assert.ok(intent.amount > 0 && intent.amount <= 1e15 && intent.to.length > 0 && !intent.to.includes(intent.from), message);
          assert.ok(intent.date === "latest" || (/^\d{4}-\d{2}-\d{2}$/.test(intent.date) && intent.date <= TODAY), message);
        }
        if (intent.kind === "history") assert.ok(intent.start <= intent.end && intent.end <= TODAY, message);
      }
    }
    assert.ok(kinds.size >= 8, [...kinds].join());
  });
  it("messages past 8,000 characters are cut, not rejected", () => {
    assert.equal(parse(`100 USD to EUR ${"x ".repeat(10_000)}`), "convert USD>EUR 100 latest");
  });
});
