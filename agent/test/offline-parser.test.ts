import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMessage, type Intent } from "../src/models/offline-parser.js";

const TODAY = "2025-03-12";

type Expect =
  | ["convert", string, string, number, string?]
  | ["history", string, string, string, string]
  | ["list"]
  | ["decline", string];

const TABLE: Array<[string, Expect]> = [
  ["What is 100 USD in EUR?", ["convert", "USD", "EUR", 100]],
  ["convert 50 pounds to yen", ["convert", "GBP", "JPY", 50]],
  ["€20 in dollars", ["convert", "EUR", "USD", 20]],
  ["EUR to CHF rate on 2024-01-15", ["convert", "EUR", "CHF", 1, "2024-01-15"]],
  ["how many Swiss francs is 1,250.50 euros", ["convert", "EUR", "CHF", 1250.5]],
  ["which currencies do you know?", ["list"]],
  ["USD to GBP history for the last week", ["history", "USD", "GBP", "2025-03-05", TODAY]],
  ["usd to eur", ["convert", "USD", "EUR", 1]],
  ["Convert 1000 JPY into USD", ["convert", "JPY", "USD", 1000]],
  ["£75 to €", ["convert", "GBP", "EUR", 75]],
  ["What's 3.5k SEK in NOK?", ["convert", "SEK", "NOK", 3500]],
  ["2 million yen in euros", ["convert", "JPY", "EUR", 2_000_000]],
  ["exchange rate from CAD to AUD", ["convert", "CAD", "AUD", 1]],
  ["How much is 10 Canadian dollars in US dollars?", ["convert", "CAD", "USD", 10]],
  ["how much yen do I get for 200 dollars", ["convert", "USD", "JPY", 200]],
  ["convert 250 AUD to USD please", ["convert", "AUD", "USD", 250]],
  ["What was the GBP to USD rate on 15 January 2024?", ["convert", "GBP", "USD", 1, "2024-01-15"]],
  ["EUR/USD on March 3, 2023", ["convert", "EUR", "USD", 1, "2023-03-03"]],
  ["What was 100 euros in dollars yesterday?", ["convert", "EUR", "USD", 100, "2025-03-11"]],
  ["rate of the swiss franc against the euro", ["convert", "CHF", "EUR", 1]],
  ["₹5000 in dollars", ["convert", "INR", "USD", 5000]],
  ["A$300 to NZ$", ["convert", "AUD", "NZD", 300]],
  ["price of 40 zloty in czech koruna", ["convert", "PLN", "CZK", 40]],
  ["100 XYZ to EUR", ["convert", "XYZ", "EUR", 100]],
  ["How much is 99.99 in GBP from USD", ["convert", "USD", "GBP", 99.99]],
  ["Convert 12,000 Mexican pesos to Brazilian reais", ["convert", "MXN", "BRL", 12000]],
  ["50 dollars", ["convert", "USD", "EUR", 50]],
  ["how much is the euro", ["convert", "EUR", "USD", 1]],
  ["show me EUR to GBP over the past 3 months", ["history", "EUR", "GBP", "2024-12-12", TODAY]],
  ["USD/JPY history from 2024-01-01 to 2024-02-01", ["history", "USD", "JPY", "2024-01-01", "2024-02-01"]],
  ["euro vs dollar trend since 2025-01-01", ["history", "EUR", "USD", "2025-01-01", TODAY]],
  ["GBP EUR rates for the last 10 days", ["history", "GBP", "EUR", "2025-03-02", TODAY]],
  ["list all supported currencies", ["list"]],
  ["What currencies are available?", ["list"]],
  ["What's the weather in Paris?", ["decline", "off_topic"]],
  ["Tell me a joke", ["decline", "off_topic"]],
  ["What is the exchange rate?", ["decline", "no_currency"]],
  ["convert 100 to something", ["decline", "no_currency"]],
  ["Will the dollar rise against the euro next week?", ["decline", "advice"]],
  ["Should I buy yen now?", ["decline", "advice"]],
  ["", ["decline", "empty"]],
  ["hello", ["decline", "off_topic"]],
];

function simplify(i: Intent): Expect {
  switch (i.kind) {
    case "convert":
      return i.date === "latest" ? ["convert", i.from, i.to, i.amount] : ["convert", i.from, i.to, i.amount, i.date];
    case "history":
      return ["history", i.from, i.to, i.start, i.end];
    case "list":
      return ["list"];
    case "decline":
      return ["decline", i.reason];
  }
}

describe("offline model parser", () => {
  it(`has at least 40 phrasings`, () => assert.ok(TABLE.length >= 40));
  for (const [message, expected] of TABLE) {
    it(JSON.stringify(message), () => assert.deepEqual(simplify(parseMessage(message, TODAY)), expected));
  }
});
