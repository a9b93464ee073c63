import type { McpServer } from "@modelcontextprotocol/server";
import type { ToolDeps } from "./common.js";
import { registerGetExchangeRate } from "./get-exchange-rate.js";
import { registerGetExchangeRateHistory } from "./get-exchange-rate-history.js";
import { registerListCurrencies } from "./list-currencies.js";

/**
 * Every tool the server offers, in tools/list order: a new tool is one module and one line here.
 */
export const TOOLS: ReadonlyArray<(server: McpServer, deps: ToolDeps) => void> = [
  registerGetExchangeRate,
  registerListCurrencies,
  registerGetExchangeRateHistory,
];
