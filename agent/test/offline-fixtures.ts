// Currency lists as the list_currencies tool gives them, for the offline model's tests.
import { readCatalog, type Catalog } from "../src/models/offline-catalog.js";

/** Today's mcp-server (Frankfurter v1, ECB reference rates): `{currencies: {CODE: name}}`. */
export const ECB_OUTPUT = {
  currencies: {
    AUD: "Australian Dollar", BGN: "Bulgarian Lev", BRL: "Brazilian Real", CAD: "Canadian Dollar", CHF: "Swiss Franc",
    CNY: "Chinese Renminbi Yuan", CZK: "Czech Koruna", DKK: "Danish Krone", EUR: "Euro", GBP: "British Pound",
    HKD: "Hong Kong Dollar", HUF: "Hungarian Forint", IDR: "Indonesian Rupiah", ILS: "Israeli New Sheqel",
    INR: "Indian Rupee", ISK: "Icelandic Króna", JPY: "Japanese Yen", KRW: "South Korean Won", MXN: "Mexican Peso",
    MYR: "Malaysian Ringgit", NOK: "Norwegian Krone", NZD: "New Zealand Dollar", PHP: "Philippine Peso",
    PLN: "Polish Złoty", RON: "Romanian Leu", SEK: "Swedish Krona", SGD: "Singapore Dollar", THB: "Thai Baht",
    TRY: "Turkish Lira", USD: "United States Dollar", ZAR: "South African Rand",
  },
};

/** A Frankfurter v2 style list: an array of objects with more fields than the model needs. */
export const V2_OUTPUT = {
  currencies: [
    ...Object.entries(ECB_OUTPUT.currencies).map(([iso_code, name]) => ({ iso_code, name, symbol: "", start_date: "1999-01-04", end_date: null })),
    { iso_code: "AED", iso_numeric: "784", name: "UAE Dirham", symbol: "د.إ", start_date: "2000-01-03", end_date: null },
    { iso_code: "NGN", iso_numeric: "566", name: "Nigerian Naira", symbol: "₦", start_date: "2000-01-03", end_date: null },
    { iso_code: "ARS", iso_numeric: "032", name: "Argentine Peso", symbol: "$", start_date: "2000-01-03", end_date: null },
    { iso_code: "CLP", iso_numeric: "152", name: "Chilean Peso", symbol: "$", start_date: "2000-01-03", end_date: null },
    { iso_code: "COP", iso_numeric: "170", name: "Colombian Peso", symbol: "$", start_date: "2000-01-03", end_date: null },
    { iso_code: "KES", iso_numeric: "404", name: "Kenyan Shilling", symbol: "KSh", start_date: "2000-01-03", end_date: null },
    { iso_code: "UGX", iso_numeric: "800", name: "Ugandan Shilling", symbol: "USh", start_date: "2000-01-03", end_date: null },
    { iso_code: "EGP", iso_numeric: "818", name: "Egyptian Pound", symbol: "E£", start_date: "2000-01-03", end_date: null },
    { iso_code: "VND", iso_numeric: "704", name: "Vietnamese Dong", symbol: "₫", start_date: "2000-01-03", end_date: null },
    { iso_code: "XAU", iso_numeric: "959", name: "Gold (troy ounce)", symbol: "", start_date: "2000-01-03", end_date: null },
  ],
};

export const ECB: Catalog = readCatalog(ECB_OUTPUT)!;
export const V2: Catalog = readCatalog(V2_OUTPUT)!;
