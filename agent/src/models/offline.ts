import { parseMessage, type Intent } from "./offline-parser.js";
import type { Content, FunctionResponse, Model, ModelReply, ModelRequest } from "./types.js";

const HELP =
  "I'm running without a language model (offline mode), so I can only answer exchange-rate questions, e.g. " +
  '"What is 100 USD in EUR?", "EUR to CHF rate on 2024-01-15", "USD to GBP history for the last week" ' +
  'or "Which currencies do you know?". Set GOOGLE_API_KEY or Vertex AI to chat about anything else.';

/**
 * The model used when no Gemini credentials are set: a deterministic planner behind the same
 * interface. It turns the user's message into one tool call, then words the answer from the result.
 */
export class OfflineModel implements Model {
  readonly name = "offline";

  constructor(private readonly today: () => string = () => new Date().toISOString().slice(0, 10)) {}

  async generate(req: ModelRequest): Promise<ModelReply> {
    const last = req.contents[req.contents.length - 1];
    const response = last?.parts.find((p): p is { functionResponse: FunctionResponse } => "functionResponse" in p)?.functionResponse;
    if (last?.role === "user" && response) return { text: answer(response, this.#pendingIntent(req.contents)) };

    const message = last?.parts.map((p) => ("text" in p ? p.text : "")).join(" ") ?? "";
    const intent = parseMessage(message, this.today());
    const available = new Set(req.tools.map((t) => t.name));
    switch (intent.kind) {
      case "decline":
        return { text: decline(intent.reason) };
      case "list":
        return call(available, "list_currencies", {});
      case "history":
        return call(available, "get_exchange_rate_history", {
          currency_from: intent.from,
          currency_to: intent.to,
          start_date: intent.start,
          end_date: intent.end,
        });
      case "convert":
        return call(available, "get_exchange_rate", {
          currency_from: intent.from,
          currency_to: intent.to,
          currency_date: intent.date,
          amount: intent.amount,
        });
    }
  }

  /** The user's message the pending tool call answers, re-read to word the reply. */
  #pendingIntent(contents: readonly Content[]): Intent | undefined {
    for (let i = contents.length - 1; i >= 0; i--) {
      const text = contents[i]!.parts.find((p): p is { text: string } => "text" in p);
      if (contents[i]!.role === "user" && text) return parseMessage(text.text, this.today());
    }
    return undefined;
  }
}

function call(available: Set<string>, name: string, args: Record<string, unknown>): ModelReply {
  if (!available.has(name)) return { text: `I can't answer that right now: the MCP server does not offer the ${name} tool.` };
  return { functionCalls: [{ name, args }] };
}

function decline(reason: string): string {
  switch (reason) {
    case "no_currency":
      return `I couldn't tell which currencies you mean. Name them with codes (USD, EUR) or names (dollars, euros). ${HELP}`;
    case "advice":
      return "I can't predict exchange rates or give trading advice; I can tell you today's or past ECB reference rates.";
    case "history_range":
      return 'Tell me the period, e.g. "for the last week" or "from 2024-01-01 to 2024-02-01".';
    default:
      return HELP;
  }
}

type Structured = Record<string, unknown>;

function answer(res: FunctionResponse, intent: Intent | undefined): string {
  const r = res.response;
  if (typeof r.error === "string") return `Sorry, I couldn't get that: ${r.error}`;
  const out = (r.output ?? {}) as Structured;
  switch (res.name) {
    case "get_exchange_rate": {
      const rates = out.rates as Record<string, number> | undefined;
      const [to, value] = Object.entries(rates ?? {})[0] ?? [];
      if (to === undefined || value === undefined) return "The exchange-rate service returned no rate.";
      const assumed = intent?.kind === "convert" && intent.assumedTarget ? ` (you didn't name a target currency, so I used ${to})` : "";
      return `${out.amount} ${out.base} = ${value} ${to}, at the ECB reference rate of ${out.date}${assumed}.`;
    }
    case "list_currencies": {
      const currencies = Object.entries((out.currencies ?? {}) as Record<string, string>);
      return `I know ${currencies.length} currencies (ECB reference rates): ${currencies.map(([c, n]) => `${c} (${n})`).join(", ")}.`;
    }
    case "get_exchange_rate_history": {
      const series = Object.entries((out.rates ?? {}) as Record<string, Record<string, number>>);
      const values = series.map(([d, v]) => [d, Object.values(v)[0]!] as const).filter(([, v]) => v !== undefined);
      if (!values.length) return `There are no ECB rates for ${out.base} between ${out.start_date} and ${out.end_date}.`;
      const to = Object.keys(series[0]![1])[0];
      const nums = values.map(([, v]) => v);
      const first = values[0]!;
      const last = values[values.length - 1]!;
      const change = ((last[1] - first[1]) / first[1]) * 100;
      return (
        `${out.base} to ${to} from ${out.start_date} to ${out.end_date} (${values.length} ECB working days): ` +
        `${first[1]} on ${first[0]}, ${last[1]} on ${last[0]} (${change >= 0 ? "+" : ""}${change.toFixed(2)}%), ` +
        `low ${Math.min(...nums)}, high ${Math.max(...nums)}.`
      );
    }
    default:
      return typeof r.output === "string" ? r.output : JSON.stringify(r.output);
  }
}
