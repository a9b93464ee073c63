// A Frankfurter-compatible server (api.frankfurter.dev/v1) with fixed ECB rates, for tests and
// benchmarks only. Same paths, parameters, JSON shapes and error statuses as the real service.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** ECB-style rates: 1 EUR = x. */
export const RATES_EUR: Readonly<Record<string, number>> = {
  AUD: 1.6512, BRL: 6.3021, CAD: 1.4703, CHF: 0.9412, CNY: 7.8125, CZK: 25.123, DKK: 7.4589,
  GBP: 0.8412, HKD: 8.4467, INR: 90.115, JPY: 162.45, KRW: 1502.3, MXN: 21.876, NOK: 11.645,
  NZD: 1.8234, PLN: 4.2561, SEK: 11.289, SGD: 1.4521, USD: 1.0845, ZAR: 19.734,
};
export const NAMES: Readonly<Record<string, string>> = {
  AUD: "Australian Dollar", BRL: "Brazilian Real", CAD: "Canadian Dollar", CHF: "Swiss Franc",
  CNY: "Chinese Renminbi Yuan", CZK: "Czech Koruna", DKK: "Danish Krone", EUR: "Euro",
  GBP: "British Pound", HKD: "Hong Kong Dollar", INR: "Indian Rupee", JPY: "Japanese Yen",
  KRW: "South Korean Won", MXN: "Mexican Peso", NOK: "Norwegian Krone", NZD: "New Zealand Dollar",
  PLN: "Polish Złoty", SEK: "Swedish Krona", SGD: "Singapore Dollar", USD: "United States Dollar",
  ZAR: "South African Rand",
};
/** The last working day up to today (UTC), as Frankfurter's `latest` reports it. */
export const LATEST_DATE = lastWorkingDay(new Date().toISOString().slice(0, 10));

function lastWorkingDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

export type Mode = "ok" | "down" | "slow" | "5xx" | "flaky5xx" | "404" | "422";

export interface FakeFrankfurter {
  url: string;
  requests: string[];
  setMode(mode: Mode): void;
  close(): Promise<void>;
}

function rateOf(code: string): number | undefined {
  return code === "EUR" ? 1 : RATES_EUR[code];
}

/** Frankfurter rounds converted values to 5 significant digits. */
export function round(n: number): number {
  return Number(n.toPrecision(5));
}

/** What the server answers for a `latest` conversion, so tests can assert the exact number. */
export function expectedConversion(from: string, to: string, amount: number): number {
  const f = rateOf(from);
  const t = rateOf(to);
  if (f === undefined || t === undefined) throw new Error(`no fixed rate for ${from} or ${to}`);
  return round((amount * t) / f);
}

/** Rates move a little each day so that history and dated lookups are distinguishable. */
function dayFactor(date: string): number {
  const day = Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
  return date === LATEST_DATE ? 1 : 1 + ((day % 7) - 3) / 1000;
}

function businessDay(date: string): string {
  const s = lastWorkingDay(date);
  return s > LATEST_DATE ? LATEST_DATE : s;
}

function quote(base: string, symbols: string[], amount: number, date: string): Record<string, number> {
  const out: Record<string, number> = {};
  const b = rateOf(base)!;
  for (const s of symbols) if (s !== base) out[s] = round(((amount * rateOf(s)!) / b) * (s === "EUR" || base === "EUR" ? dayFactor(date) : 1));
  return out;
}

export function handle(path: string, query: URLSearchParams): { status: number; body: unknown } {
  const notFound = { status: 404, body: { message: "not found" } };
  const m = /^\/v1\/(latest|currencies|\d{4}-\d{2}-\d{2}(?:\.\.(?:\d{4}-\d{2}-\d{2})?)?)$/.exec(path);
  if (!m) return notFound;
  const what = m[1]!;
  if (what === "currencies") return { status: 200, body: NAMES };

  const base = (query.get("base") ?? query.get("from") ?? "EUR").toUpperCase();
  const symbolsParam = query.get("symbols") ?? query.get("to");
  const symbols = symbolsParam ? symbolsParam.toUpperCase().split(",") : Object.keys(NAMES);
  const amountParam = query.get("amount");
  const amount = amountParam === null ? 1 : Number(amountParam);
  if (!Number.isFinite(amount) || amount <= 0) return { status: 422, body: { message: "invalid amount" } };
  if (rateOf(base) === undefined || symbols.some((s) => rateOf(s) === undefined)) return notFound;

  if (what === "latest") return { status: 200, body: { amount, base, date: LATEST_DATE, rates: quote(base, symbols, amount, LATEST_DATE) } };

  const [start, end] = what.split("..");
  if (!start || Number.isNaN(Date.parse(`${start}T00:00:00Z`)) || start < "1999-01-04") return notFound;
  if (end === undefined) {
    const date = businessDay(start);
    return { status: 200, body: { amount, base, date, rates: quote(base, symbols, amount, date) } };
  }
  const last = end === "" || end > LATEST_DATE ? LATEST_DATE : end;
  const rates: Record<string, Record<string, number>> = {};
  for (let d = new Date(`${start}T00:00:00Z`); d.toISOString().slice(0, 10) <= last; d.setUTCDate(d.getUTCDate() + 1)) {
    if (d.getUTCDay() === 0 || d.getUTCDay() === 6) continue;
    const date = d.toISOString().slice(0, 10);
    rates[date] = quote(base, symbols, amount, date);
  }
  const dates = Object.keys(rates);
  if (dates.length === 0) return notFound;
  return { status: 200, body: { amount, base, start_date: dates[0], end_date: dates[dates.length - 1], rates } };
}

export async function startFrankfurter(opts: { port?: number; host?: string } = {}): Promise<FakeFrankfurter> {
  let mode: Mode = "ok";
  let flakyCount = 0;
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(url.pathname + url.search);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    switch (mode) {
      case "down":
        req.socket.destroy();
        return;
      case "slow":
        setTimeout(() => !res.writableEnded && send(200, handle(url.pathname, url.searchParams).body), 30_000).unref();
        return;
      case "5xx":
        return send(503, { message: "service unavailable" });
      case "flaky5xx":
        if (flakyCount++ % 2 === 0) return send(502, { message: "bad gateway" });
        break;
      case "404":
        return send(404, { message: "not found" });
      case "422":
        return send(422, { message: "unprocessable" });
    }
    const { status, body } = handle(url.pathname, url.searchParams);
    send(status, body);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    url: `http://${host}:${port}/v1`,
    requests,
    setMode(m) {
      mode = m;
      flakyCount = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// CLI: node --import tsx test/support/frankfurter.ts [--port N] [--host H]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const fake = await startFrankfurter({ port: Number(arg("--port") ?? 0), host: arg("--host") ?? "127.0.0.1" });
  console.log(JSON.stringify({ url: fake.url }));
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
