import type { Logger } from "./log.js";
import type { SessionHandle, SessionKey, SessionStore } from "./sessions.js";
import type { Content, FunctionCall, Model, ToolSpec } from "./models/types.js";

export const SYSTEM_INSTRUCTION =
  "You are a currency assistant. Use the tools for every exchange rate, conversion, currency list or " +
  "rate history: never guess rates. Give the numbers exactly as the tools return them and say which " +
  "date's ECB reference rate you used. If a tool fails, say so plainly. For anything unrelated to " +
  "currencies, say briefly that you only help with exchange rates.";

export const MAX_TOOL_ROUNDS = 5;

/** What the chat loop needs from the MCP connection. */
export interface ToolHost {
  listTools(): Promise<ToolSpec[]>;
  callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolOutcome>;
}
export interface ToolOutcome {
  isError: boolean;
  text: string;
  structured?: Record<string, unknown> | undefined;
}

export interface ToolCallRecord {
  name: string;
  arguments: Record<string, unknown>;
  is_error: boolean;
  result?: string;
}

export type TurnEvent =
  | { type: "tool_call"; name: string; arguments: Record<string, unknown> }
  | { type: "tool_result"; name: string; is_error: boolean; result: string }
  | { type: "text"; text: string };

export interface TurnResult {
  response: string;
  toolCalls: ToolCallRecord[];
}

/** Tool listing failed: the turn cannot start. */
export class ToolsUnavailableError extends Error {}

export class ChatService {
  constructor(
    private readonly deps: { model: Model; tools: ToolHost; store: SessionStore; logger: Logger; app: string },
  ) {}

  /** Runs one turn: serialised per session, bounded in tool rounds, history saved only when it completes. */
  runTurn(
    ids: { userId: string; sessionId: string },
    message: string,
    opts: { signal?: AbortSignal | undefined; onEvent?: ((e: TurnEvent) => void) | undefined } = {},
  ): Promise<TurnResult> {
    const key: SessionKey = { app: this.deps.app, ...ids };
    return this.deps.store.withSession(key, (session) => this.#turn(session, message, opts.signal, opts.onEvent ?? (() => {})), opts.signal);
  }

  async #turn(session: SessionHandle, message: string, signal: AbortSignal | undefined, emit: (e: TurnEvent) => void): Promise<TurnResult> {
    let tools: ToolSpec[];
    try {
      tools = await this.deps.tools.listTools();
    } catch (err) {
      // Errors that already carry an HTTP status (auth refused, unreachable) keep it.
      throw err instanceof Error && "status" in err ? err : new ToolsUnavailableError(String((err as Error).message ?? err));
    }
    const history = await session.load();
    const turn: Content[] = [{ role: "user", parts: [{ text: message }] }];
    const toolCalls: ToolCallRecord[] = [];

    for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
      signal?.throwIfAborted();
      const reply = await this.deps.model.generate({ system: SYSTEM_INSTRUCTION, contents: [...history, ...turn], tools, signal });
      if (!reply.functionCalls?.length) {
        const text = reply.text ?? "";
        turn.push({ role: "model", parts: [{ text }] });
        emit({ type: "text", text });
        await session.save([...history, ...turn]);
        return { response: text, toolCalls };
      }
      turn.push({ role: "model", parts: reply.functionCalls.map((functionCall) => ({ functionCall })) });
      const responses = [];
      for (const call of reply.functionCalls) responses.push(await this.#call(call, signal, emit, toolCalls));
      turn.push({ role: "user", parts: responses });
    }
    const text = `I stopped after ${MAX_TOOL_ROUNDS} rounds of tool calls without a final answer; please rephrase or narrow the question.`;
    turn.push({ role: "model", parts: [{ text }] });
    emit({ type: "text", text });
    await session.save([...history, ...turn]);
    return { response: text, toolCalls };
  }

  async #call(call: FunctionCall, signal: AbortSignal | undefined, emit: (e: TurnEvent) => void, record: ToolCallRecord[]) {
    emit({ type: "tool_call", name: call.name, arguments: call.args });
    let outcome: ToolOutcome;
    try {
      outcome = await this.deps.tools.callTool(call.name, call.args, signal);
    } catch (err) {
      signal?.throwIfAborted();
      // A failed call goes back to the model as an error it can explain, not as a failed turn.
      outcome = { isError: true, text: `The tool could not be called: ${(err as Error).message}` };
    }
    emit({ type: "tool_result", name: call.name, is_error: outcome.isError, result: outcome.text });
    record.push({ name: call.name, arguments: call.args, is_error: outcome.isError, result: outcome.text });
    const response = outcome.isError ? { error: outcome.text } : { output: outcome.structured ?? outcome.text };
    return { functionResponse: { id: call.id, name: call.name, response } };
  }
}
