// The agent's test harness: one scripted model, one fake tool host, the agent built in-process by its
// own factory, and one way to run a turn or a chat request.
import type { Logger } from "../../common/log.js";
import { silentLogger } from "../../common/log.js";
import { createAgent, type Agent, type AgentOverrides } from "../../agent/src/agent.js";
import { loadConfig } from "../../agent/src/config.js";
import type { Model, ModelReply, ModelRequest, ToolSpec } from "../../agent/src/models/types.js";
import { MemorySessionStore, type SessionStore } from "../../agent/src/sessions/index.js";
import {
  runTurn,
  type ToolCallRecord,
  type ToolHost,
  type ToolOutcome,
  type TurnDeps,
  type TurnEvent,
} from "../../agent/src/turn/index.js";

export const RATE_TOOL: ToolSpec = {
  name: "get_exchange_rate",
  description: "Converts an amount",
  inputSchema: {
    type: "object",
    properties: {
      currency_from: { type: "string" },
      currency_to: { type: "string" },
      amount: { type: "number" },
    },
  },
};

type Step = ModelReply | Error | ((req: ModelRequest) => Promise<ModelReply>);

/** A model that replays its script (then answers "done") and records what it was asked. */
export class ScriptedModel implements Model {
  readonly name: string = "scripted";
  requests: ModelRequest[] = [];
  constructor(private readonly script: Step[] = []) {}
  async generate(req: ModelRequest): Promise<ModelReply> {
    this.requests.push({ ...req, contents: [...req.contents] });
    const next = this.script.shift() ?? { text: "done" };
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next(req) : next;
  }
}

type Outcome = (name: string, args: Record<string, unknown>) => Promise<ToolOutcome>;
/** 1 USD in these, for the default outcome. */
const RATES: Record<string, number> = { EUR: 0.9, GBP: 0.7893, JPY: 157.12 };

/**
 * A tool host offering `tools`, recording every call. By default it converts as get_exchange_rate
 * does, with the shape it declares (amount, base, date, rates keyed by the target).
 */
export class FakeTools implements ToolHost {
  calls: Array<{ name: string; args: Record<string, unknown> }> = [];
  constructor(
    private readonly outcome: Outcome = convert,
    readonly tools: ToolSpec[] = [RATE_TOOL],
  ) {}
  async listTools(): Promise<ToolSpec[]> {
    return this.tools;
  }
  async callTool(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    this.calls.push({ name, args });
    return this.outcome(name, args);
  }
}

async function convert(_name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const to = String(args.currency_to ?? "EUR");
  const rate = RATES[to];
  if (rate === undefined) return { isError: true, text: `Unknown currency ${to}` };
  const amount = Number(args.amount ?? 1);
  const value = Math.round(amount * rate * 1000) / 1000;
  const structured = {
    amount,
    base: "USD",
    date: "2025-01-10",
    rates: { [to]: value },
    quote: to,
    rate,
  };
  return { isError: false, text: `${amount} USD = ${value} ${to}`, structured };
}

export const memoryStore = (
  opts: Partial<ConstructorParameters<typeof MemorySessionStore>[0]> = {},
): MemorySessionStore =>
  new MemorySessionStore({ ttlMs: 60_000, maxSessions: 100, maxMessages: 40, ...opts });

export function turnDeps(
  model: Model,
  tools: ToolHost = new FakeTools(),
  store: SessionStore = memoryStore(),
  logger: Logger = silentLogger,
): TurnDeps {
  return { model, tools, store, logger, app: "test", instruction: "You are a test." };
}

export interface TurnResult {
  response: string;
  toolCalls: ToolCallRecord[];
  events: TurnEvent[];
}

/**
 * Runs one turn to its end. With `onEvent` the model streams (as for /chat/stream) and every event
 * but `done` is passed on as it comes.
 */
export async function turn(
  deps: TurnDeps,
  ids: { userId: string; sessionId: string },
  message: string,
  opts: { signal?: AbortSignal; onEvent?: (e: TurnEvent) => void } = {},
): Promise<TurnResult> {
  const events: TurnEvent[] = [];
  const stream = runTurn(deps, ids, message, {
    signal: opts.signal,
    streamText: Boolean(opts.onEvent),
  });
  for await (const e of stream) {
    if (e.type === "done") return { response: e.response, toolCalls: e.tool_calls, events };
    events.push(e);
    opts.onEvent?.(e);
  }
  throw new Error("the turn ended without done");
}

/**
 * The agent built by createAgent from `env` (offline model, memory store, no page by default) with
 * `overrides`; issued session ids are "session-1", "session-2", … unless overridden.
 */
export async function buildAgent(
  overrides: AgentOverrides = {},
  env: Record<string, string> = {},
): Promise<Agent> {
  let n = 0;
  const config = loadConfig({ MODEL_PROVIDER: "offline", ...env });
  return createAgent(config, {
    logger: silentLogger,
    page: null,
    newSessionId: () => `session-${++n}`,
    ...overrides,
  });
}

export type ChatBody = {
  response: string;
  session_id: string;
  user_id: string;
  tool_calls: ToolCallRecord[];
  error?: { code: string; message: string };
};

export const post = (
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): RequestInit => ({
  method: "POST",
  headers,
  body,
});

/** POST /chat with a JSON body; the answer's status and parsed body. */
export async function chat(
  app: { request(path: string, init?: RequestInit): Response | Promise<Response> },
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: ChatBody }> {
  const res = await app.request(
    "/chat",
    post(JSON.stringify(body), { "content-type": "application/json", ...headers }),
  );
  return { status: res.status, body: (await res.json()) as ChatBody };
}
