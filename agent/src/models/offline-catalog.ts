// What the offline model knows about currencies. The set of currencies the rate source publishes
// comes from the list_currencies tool (read by readCatalog); the tables here only hold the words
// people use for them that the list does not spell out: symbols, nicknames, and which currency a bare
// "dollar" or "pound" means.

/**
 * A table read with words from the message: no prototype, so "constructor" or "__proto__" typed by a
 * user finds nothing instead of an Object method.
 */
export function lookup<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

/** Currencies the rate source publishes: ISO code → name, as list_currencies answered. */
export interface Catalog {
  readonly codes: ReadonlyMap<string, string>;
}

/** Bounds on what is kept from one list, so a huge or hostile answer cannot grow the cache. */
export const MAX_CATALOG_ENTRIES = 1000;
const MAX_NAME_CHARS = 80;

/**
 * Reads list_currencies' output in whichever shape it comes: `{currencies: {CODE: name}}` (today),
 * `{currencies: [{code|iso_code, name, …}]}` (Frankfurter v2 style), a bare map or array, or the text
 * form ("USD United States Dollar" per line). Unknown fields are ignored. Undefined if nothing usable.
 */
export function readCatalog(output: unknown): Catalog | undefined {
  const codes = new Map<string, string>();
  const add = (code: unknown, name: unknown): void => {
    if (typeof code !== "string" || codes.size >= MAX_CATALOG_ENTRIES) return;
    const c = code.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(c)) return;
    codes.set(c, typeof name === "string" ? name.trim().slice(0, MAX_NAME_CHARS) : (codes.get(c) ?? ""));
  };
  const fromItems = (items: unknown): void => {
    if (Array.isArray(items)) {
      for (const item of items.slice(0, MAX_CATALOG_ENTRIES)) {
        if (typeof item === "string") add(item, undefined);
        else if (item && typeof item === "object") {
          const o = item as Record<string, unknown>;
          add(o.code ?? o.iso_code ?? o.isoCode ?? o.iso ?? o.currency, o.name ?? o.label ?? o.description);
        }
      }
    } else if (items && typeof items === "object") {
      for (const [code, v] of Object.entries(items as Record<string, unknown>).slice(0, MAX_CATALOG_ENTRIES)) {
        add(code, typeof v === "string" ? v : v && typeof v === "object" ? (v as Record<string, unknown>).name : undefined);
      }
    }
  };
  if (typeof output === "string") {
    for (const line of output.split("\n", MAX_CATALOG_ENTRIES + 2)) {
      const m = /^\s*([A-Z]{3})\b[\s:–-]*(.*)$/.exec(line);
      if (m) add(m[1], m[2]);
    }
  } else if (Array.isArray(output)) fromItems(output);
  else if (output && typeof output === "object") {
    const o = output as Record<string, unknown>;
    fromItems(o.currencies ?? o.data ?? o.items ?? o);
  }
  return codes.size ? { codes } : undefined;
}

/** Lower case, no accents, ł → l: "Złoty" and "zloty" are one word. */
export function fold(word: string): string {
  return word
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/ł/gi, "l")
    .toLowerCase();
}

const IRREGULAR: Record<string, string> = lookup({ reais: "real", kronor: "krona", kroner: "krone", lei: "leu", leva: "lev", zlote: "zloty", zlotys: "zloty", pence: "penny", rupiahs: "rupiah" });

/** The singular of a currency word ("pesos" → "peso", "kronor" → "krona"). */
export function singular(word: string): string {
  const w = fold(word);
  if (IRREGULAR[w]) return IRREGULAR[w];
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) return w.slice(0, -1);
  return w;
}

/** Currency symbols. "$" and "¥" are read as the currency most people mean by them. */
export const SYMBOLS: Readonly<Record<string, string>> = lookup({
  "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₺": "TRY", "₪": "ILS", "฿": "THB", "₦": "NGN",
  "₱": "PHP", "₽": "RUB", "₴": "UAH", "₫": "VND", "₸": "KZT", "₼": "AZN", "₾": "GEL", "₵": "GHS", $: "USD",
});
export const PREFIXED_DOLLARS: Readonly<Record<string, string>> = lookup({
  US$: "USD", C$: "CAD", CA$: "CAD", A$: "AUD", AU$: "AUD", NZ$: "NZD", HK$: "HKD", S$: "SGD", R$: "BRL", MX$: "MXN",
});

/**
 * Phrases (already folded, singular) that name one currency but that a list's official names do not
 * contain. Matched before the list's own names, longest first.
 */
export const ALIASES: ReadonlyArray<[string, string]> = [
  ["us dollar", "USD"], ["u.s. dollar", "USD"], ["american dollar", "USD"], ["greenback", "USD"], ["buck", "USD"],
  ["usd", "USD"], ["canadian dollar", "CAD"], ["loonie", "CAD"], ["aussie dollar", "AUD"], ["australian dollar", "AUD"],
  ["kiwi dollar", "NZD"], ["new zealand dollar", "NZD"], ["hong kong dollar", "HKD"], ["singapore dollar", "SGD"],
  ["pound sterling", "GBP"], ["sterling", "GBP"], ["british pound", "GBP"], ["quid", "GBP"],
  ["swiss franc", "CHF"], ["japanese yen", "JPY"], ["chinese yuan", "CNY"], ["renminbi", "CNY"], ["rmb", "CNY"],
  ["indian rupee", "INR"], ["mexican peso", "MXN"], ["philippine peso", "PHP"], ["brazilian real", "BRL"],
  ["south african rand", "ZAR"], ["korean won", "KRW"], ["south korean won", "KRW"], ["swedish krona", "SEK"],
  ["norwegian krone", "NOK"], ["danish krone", "DKK"], ["icelandic krona", "ISK"], ["czech koruna", "CZK"],
  ["polish zloty", "PLN"], ["hungarian forint", "HUF"], ["romanian leu", "RON"], ["bulgarian lev", "BGN"],
  ["turkish lira", "TRY"], ["israeli shekel", "ILS"], ["israeli new shekel", "ILS"], ["thai baht", "THB"],
  ["malaysian ringgit", "MYR"], ["indonesian rupiah", "IDR"], ["uae dirham", "AED"], ["emirati dirham", "AED"],
  ["moroccan dirham", "MAD"], ["nigerian naira", "NGN"], ["argentine peso", "ARS"], ["argentinian peso", "ARS"],
  ["chilean peso", "CLP"], ["colombian peso", "COP"], ["saudi riyal", "SAR"], ["russian ruble", "RUB"],
  ["ukrainian hryvnia", "UAH"], ["egyptian pound", "EGP"], ["kenyan shilling", "KES"], ["euro", "EUR"],
];

/**
 * What a bare currency word means when one currency dominates its use; used only when the list has
 * that code. Words missing here ("peso", "krone", "dinar", "riyal") are ambiguous: the user is asked.
 */
export const CONVENTIONS: Readonly<Record<string, string>> = lookup({
  dollar: "USD", pound: "GBP", franc: "CHF", yen: "JPY", yuan: "CNY", rupee: "INR", dirham: "AED", real: "BRL",
  rand: "ZAR", won: "KRW", lira: "TRY", shekel: "ILS", zloty: "PLN", forint: "HUF", koruna: "CZK", baht: "THB",
  ringgit: "MYR", rupiah: "IDR", leu: "RON", lev: "BGN", naira: "NGN", ruble: "RUB", rouble: "RUB", hryvnia: "UAH",
  euro: "EUR",
});

/** Currency words whose meaning needs the list (several currencies share them). */
export const AMBIGUOUS_WORDS: ReadonlySet<string> = new Set(["peso", "krone", "krona", "dinar", "riyal", "rial", "shilling"]);

/** English words that are also currency words: they count only next to an amount or a qualifier. */
export const WORDS_NEEDING_CONTEXT: ReadonlySet<string> = new Set(["real", "won", "rand", "mark", "lev", "leu", "buck"]);

/** Lower-case words that are also ISO codes ("all" is ALL, the Albanian lek): never codes in lower case. */
export const ENGLISH_CODES: ReadonlySet<string> = new Set([
  "all", "top", "try", "cad", "mad", "bob", "cup", "pen", "sos", "gel", "mop", "bam", "ron", "fun", "std", "ang", "mur", "bif", "lak", "nad", "lsl", "ern",
]);

/** Upper-case three-letter words that are not currency codes even in shouted text. */
export const NOT_CODES: ReadonlySet<string> = new Set([
  "THE", "AND", "FOR", "HOW", "ARE", "WAS", "YOU", "CAN", "GET", "PER", "NOT", "ANY", "BUT", "HAS", "HAD", "ITS", "OUR",
  "OUT", "WHO", "WHY", "NOW", "NEW", "OLD", "ONE", "TWO", "SIX", "TEN", "DAY", "ASK", "USE", "SAY", "SEE", "LET", "PUT",
  "FEW", "OFF", "YES", "ALL", "TOP", "TRY", "BUY", "AGO", "MAX", "MIN", "AVG", "ETA", "FAQ", "API", "ECB", "USA", "UAE",
  "GMT", "UTC", "CET", "EST", "PST", "ATM", "WHAT", "HIS", "HER", "SHE", "HIM", "DID", "WAS", "BIG", "LOT", "PLZ", "THX",
]);

/** Crypto and other assets people ask about that are not currencies a central bank publishes. */
export const NON_CURRENCY_ASSETS: ReadonlySet<string> = new Set([
  "bitcoin", "btc", "ethereum", "ether", "eth", "litecoin", "ltc", "dogecoin", "doge", "solana", "ripple", "xrp",
  "tether", "usdt", "usdc", "crypto", "cryptocurrency", "monero", "cardano",
]);

/** A catalog's names indexed by their words, built once per catalog. */
export interface NameIndex {
  /** Phrase (folded, singular words joined by spaces) → codes it names. */
  readonly phrases: ReadonlyMap<string, readonly string[]>;
  /** Last word of a name (singular) → codes whose name ends with it ("peso" → ARS, MXN, …). */
  readonly heads: ReadonlyMap<string, readonly string[]>;
  /** Longest phrase, in words: bounds the look-ahead at each word. */
  readonly maxWords: number;
}

export function indexNames(catalog: Catalog | undefined): NameIndex {
  const phrases = new Map<string, string[]>();
  const heads = new Map<string, string[]>();
  let maxWords = 1;
  const push = (map: Map<string, string[]>, key: string, code: string): void => {
    const list = map.get(key) ?? [];
    if (!list.includes(code)) list.push(code);
    map.set(key, list);
  };
  const words = (s: string): string[] => fold(s).split(/[^\p{L}.]+/u).filter(Boolean).map(singular);
  for (const [phrase, code] of ALIASES) {
    if (catalog && !catalog.codes.has(code)) continue;
    const w = words(phrase);
    maxWords = Math.max(maxWords, w.length);
    push(phrases, w.join(" "), code);
  }
  for (const [code, name] of catalog?.codes ?? []) {
    // "Gold (troy ounce)" is called gold.
    const w = words(name.replace(/\(.*$/, ""));
    if (!w.length) continue;
    maxWords = Math.max(maxWords, Math.min(w.length, 6));
    if (w.length <= 6) push(phrases, w.join(" "), code);
    push(heads, w[w.length - 1]!, code);
  }
  return { phrases, heads, maxWords };
}
