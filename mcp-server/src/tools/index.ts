import type { Tool } from "./define.js";
import { getExchangeRate } from "./get-exchange-rate.js";
import { getExchangeRateHistory } from "./get-exchange-rate-history.js";
import { listCurrencies } from "./list-currencies.js";

/**
 * Every tool the server offers, in tools/list order: a new tool is one module and one line here.
 */
export const TOOLS: readonly Tool[] = [getExchangeRate, listCurrencies, getExchangeRateHistory];
