import { HELP, HISTORY_TOOL, isNotFoundError, LIST_TOOL, RATE_TOOL, UNAVAILABLE, wordCatalog, wordIntent, wordResults, type Answered } from "./offline-answer.js";
import { readCatalog, type Catalog } from "./offline-catalog.js";
import { parseMessage, type Question } from "./offline-parser.js";
import type { Content, FunctionCall, FunctionResponse, Model, ModelReply, ModelRequest, ToolSpec } from "./types.js";

export interface OfflineModelOptions {
  /** How long the currency list is trusted before it is fetched again (default 1 hour). */
  catalogTtlMs?: number;
  /** Clock for the cache (ms since epoch); tests pass a fake one. */
  now?: () => number;
}

/** Earlier user messages read for follow-ups: enough for a conversation, bounded in work. */
const FOLLOW_UP_DEPTH = 8;

/**
 * The model used when no Gemini credentials are set: a deterministic planner behind the same
 * interface. It reads the user's message (and the conversation, for follow-ups), plans the tool calls,
 * then words the answer from their results.
 *
 * The currencies the rate source publishes come from the list_currencies tool. The model plans that
 * call itself, like any other, and keeps the list for catalogTtlMs in the instance (bounded in entries
 * and name length by readCatalog). It asks for the list only when a message needs it: a code or name
 * outside the common ones, a word in a currency's place ("1 bitcoin in EUR"), an ambiguous name
 * ("peso"), a list question, or a rate lookup that found nothing (to tell "not published" from "no
 * rate that day"). "100 USD in EUR" goes straight to the rate lookup, so the usual turn costs one call;
 * once the list is cached, every currency is checked against it before any lookup.
 */
export class OfflineModel implements Model {
  readonly name = "offline";
  #catalog: { catalog: Catalog; at: number } | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(
    private readonly today: () => string = () => new Date().toISOString().slice(0, 10),
    options: OfflineModelOptions = {},
  ) {
    this.#ttlMs = options.catalogTtlMs ?? 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  async generate(req: ModelRequest): Promise<ModelReply> {
    const contents = req.contents;
    const turnStart = lastUserText(contents, contents.length - 1);
    if (turnStart < 0) return { text: HELP };
    const message = textOf(contents[turnStart]!);
    const answered = pairCalls(contents.slice(turnStart + 1));
    const available = new Set(req.tools.map((t) => t.name));

    const listed = answered.filter((a) => a.call.name === LIST_TOOL);
    for (const a of listed) {
      const catalog = a.response.response.error === undefined ? readCatalog(a.response.response.output) : undefined;
      if (catalog) this.#catalog = { catalog, at: this.#now() };
    }
    const catalog = this.#fresh();
    const canFetch = available.has(LIST_TOOL) && !listed.length;

    const previous = this.#previousQuestion(contents, turnStart, catalog);
    const lookups = answered.filter((a) => a.call.name !== LIST_TOOL);
    if (lookups.length) {
      // A lookup that found nothing: the list tells "not published" from "no rate that day".
      if (!catalog && canFetch && lookups.some((a) => isNotFoundError(a.response))) return call(LIST_TOOL, {});
      return { text: wordResults(lookups, catalog, req.tools, this.#note(message, catalog, previous)) };
    }

    const intent = parseMessage(message, { today: this.today(), catalog, canFetchCatalog: canFetch, previous });
    switch (intent.kind) {
      case "needs_catalog":
        return call(LIST_TOOL, {});
      case "list":
        if (intent.asked.length && catalog) return { text: wordIntent(intent, catalog) };
        if (listed.length) return { text: intent.asked.length ? wordIntent(intent, catalog) : wordCatalog(catalog) };
        return available.has(LIST_TOOL) ? call(LIST_TOOL, {}) : { text: UNAVAILABLE };
      case "convert":
        if (!available.has(RATE_TOOL)) return { text: UNAVAILABLE };
        return {
          functionCalls: intent.to.map((to) => ({
            name: RATE_TOOL,
            args: { currency_from: intent.from, currency_to: to, currency_date: intent.date, amount: intent.amount },
          })),
        };
      case "history": {
        const tool = historyTool(req.tools);
        if (!tool) return { text: UNAVAILABLE };
        return {
          functionCalls: intent.to.map((to) => ({
            name: tool.name,
            args: { currency_from: intent.from, currency_to: to, [tool.start]: intent.start, [tool.end]: intent.end },
          })),
        };
      }
      default:
        return { text: wordIntent(intent, catalog) };
    }
  }

  #fresh(): Catalog | undefined {
    if (this.#catalog && this.#now() - this.#catalog.at < this.#ttlMs) return this.#catalog.catalog;
    this.#catalog = undefined;
    return undefined;
  }

  /** A sentence to put before the results, when the question was changed to fit (a clamped period). */
  #note(message: string, catalog: Catalog | undefined, previous: Question | undefined): string | undefined {
    const intent = parseMessage(message, { today: this.today(), catalog, previous });
    if (intent.kind === "history" && intent.clamped) {
      return `I can show at most a year of rates at a time, so here is the last year of that period.`;
    }
    return undefined;
  }

  /** The last question before this turn, each earlier message read in the light of the one before. */
  #previousQuestion(contents: readonly Content[], turnStart: number, catalog: Catalog | undefined): Question | undefined {
    const messages: string[] = [];
    for (let i = lastUserText(contents, turnStart - 1); i >= 0 && messages.length < FOLLOW_UP_DEPTH; i = lastUserText(contents, i - 1)) {
      messages.unshift(textOf(contents[i]!));
    }
    let previous: Question | undefined;
    for (const m of messages) {
      const intent = parseMessage(m, { today: this.today(), catalog, previous });
      if ("question" in intent) previous = intent.question;
    }
    return previous;
  }
}

/**
 * The history tool: today's name, else one whose name says history (issue 17 may rename it), with
 * the date parameters its schema declares.
 */
function historyTool(tools: readonly ToolSpec[]): { name: string; start: string; end: string } | undefined {
  const spec = tools.find((t) => t.name === HISTORY_TOOL) ?? tools.find((t) => /histor|series/i.test(t.name));
  if (!spec) return undefined;
  const props = spec.inputSchema.properties;
  const names = props && typeof props === "object" ? Object.keys(props) : [];
  const pick = (candidates: string[]): string => candidates.find((c) => names.includes(c)) ?? candidates[0]!;
  return { name: spec.name, start: pick(["start_date", "start", "date_from", "from_date"]), end: pick(["end_date", "end", "date_to", "to_date"]) };
}

function call(name: string, args: Record<string, unknown>): ModelReply {
  return { functionCalls: [{ name, args }] };
}

function textOf(content: Content): string {
  return content.parts.map((p) => ("text" in p && typeof p.text === "string" && !(p as { thought?: boolean }).thought ? p.text : "")).join(" ");
}

/** Index of the last user content at or before `from` that the user typed (not a tool result). */
function lastUserText(contents: readonly Content[], from: number): number {
  for (let i = from; i >= 0; i--) {
    const c = contents[i]!;
    if (c.role === "user" && c.parts.some((p) => "text" in p && typeof p.text === "string")) return i;
  }
  return -1;
}

/** Each function call of this turn with the response that answered it (by id, else by position). */
function pairCalls(turn: readonly Content[]): Answered[] {
  const out: Answered[] = [];
  for (let i = 0; i + 1 < turn.length; i++) {
    const calls = turn[i]!.parts.flatMap((p) => ("functionCall" in p ? [p.functionCall as FunctionCall] : []));
    if (turn[i]!.role !== "model" || !calls.length) continue;
    const responses = turn[i + 1]!.parts.flatMap((p) => ("functionResponse" in p ? [p.functionResponse as FunctionResponse] : []));
    calls.forEach((c, k) => {
      const response = (c.id !== undefined ? responses.find((r) => r.id === c.id) : undefined) ?? responses[k];
      if (response) out.push({ call: c, response });
    });
  }
  return out;
}
