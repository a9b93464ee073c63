import { captureContent, inSpan, type Span } from "../../common/trace.js";
import type { Logger } from "./log.js";
import type { SessionHandle, SessionKey, SessionStore } from "./sessions.js";
import type { Content, FunctionCall, Model, Part, ToolSpec, Usage } from "./models/types.js";

export const SYSTEM_INSTRUCTION =
  "You are a currency assistant. Use the tools for every exchange rate, conversion, currency list or " +
  "rate history: never guess rates. Which currencies exist is what list_currencies says, not what you " +
  "remember; if a currency name is ambiguous (peso, dollar, dinar, …), ask which one is meant. Give the " +
  "numbers exactly as the tools return them, and say which date the rate is for and where it comes from " +
  "as the tool reports it. If a tool fails, say so plainly. For anything unrelated to currencies, say " +
  "briefly that you only help with exchange rates.";

export const MAX_TOOL_ROUNDS = 5;
/** Parallel calls from one model step run at most this many at a time. */
export const MAX_PARALLEL_TOOL_CALLS = 4;

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
  | { type: "tool_call"; id?: string; name: string; arguments: Record<string, unknown> }
  | { type: "tool_result"; id?: string; name: string; is_error: boolean; result: string }
  /** A piece of the answer: concatenated, a turn's text events are its response. */
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

  /** Whether a conversation is stored under these ids: an anonymous caller may continue only those. */
  async hasConversation(ids: { userId: string; sessionId: string }): Promise<boolean> {
    const key = { app: this.deps.app, ...ids };
    return (await this.#store("load", key, () => this.deps.store.load(key))).length > 0;
  }

  /** Runs one turn: serialised per session, bounded in tool rounds, history saved only when it completes. */
  runTurn(
    ids: { userId: string; sessionId: string },
    message: string,
    opts: { signal?: AbortSignal | undefined; onEvent?: ((e: TurnEvent) => void) | undefined } = {},
  ): Promise<TurnResult> {
    const key: SessionKey = { app: this.deps.app, ...ids };
    // One span per turn (OpenTelemetry GenAI conventions, agent spans), the wait for the session's lock included.
    const attributes = { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": this.deps.app, "gen_ai.conversation.id": ids.sessionId };
    return inSpan(`invoke_agent ${this.deps.app}`, { attributes }, async (span) => {
      const result = await this.deps.store.withSession(key, (session) => this.#turn(key, session, message, opts.signal, opts.onEvent), opts.signal);
      // Message text only when the GenAI content-capture setting asks for it.
      if (captureContent()) {
        span.setAttributes({
          "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: message }] }]),
          "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: result.response }], finish_reason: "stop" }]),
        });
      }
      return result;
    });
  }

  /** The store's reads and writes as spans of their own: a slow Firestore shows as what it is. */
  #store<T>(op: "load" | "save", key: SessionKey, fn: () => Promise<T>): Promise<T> {
    return inSpan(`session_store ${op}`, { attributes: { "gen_ai.conversation.id": key.sessionId, "session_store.operation": op } }, fn);
  }

  async #turn(key: SessionKey, session: SessionHandle, message: string, signal: AbortSignal | undefined, onEvent?: (e: TurnEvent) => void): Promise<TurnResult> {
    const started = Date.now();
    const emit = onEvent ?? ((): void => {});
    let tools: ToolSpec[];
    try {
      tools = await this.deps.tools.listTools();
    } catch (err) {
      // Errors that already carry an HTTP status (auth refused, unreachable) keep it.
      throw err instanceof Error && "status" in err ? err : new ToolsUnavailableError(String((err as Error).message ?? err));
    }
    const history = await this.#store("load", key, () => session.load());
    const turn: Content[] = [{ role: "user", parts: [{ text: message }] }];
    const toolCalls: ToolCallRecord[] = [];
    const timings: Array<{ name: string; ms: number; is_error: boolean }> = [];
    const usage: Usage = { prompt: 0, output: 0, thoughts: 0, total: 0 };
    let response = "";
    let rounds = 0;
    const finish = async (): Promise<TurnResult> => {
      await this.#store("save", key, () => session.save([...history, ...turn]));
      this.deps.logger.log("INFO", "turn answered", {
        model: this.deps.model.name,
        rounds,
        tools: timings,
        usage,
        duration_ms: Date.now() - started,
      });
      return { response, toolCalls };
    };

    while (rounds < MAX_TOOL_ROUNDS) {
      rounds++;
      signal?.throwIfAborted();
      let streamed = false;
      const model = this.deps.model.name;
      // A model call span (GenAI conventions, inference spans): the model adds what only it knows
      // (provider, finish reason); no message text or output goes in.
      const reply = await inSpan(`chat ${model}`, { kind: "client", attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": model } }, async (span) => {
        const r = await this.deps.model.generate({
          system: SYSTEM_INSTRUCTION,
          contents: [...history, ...turn],
          tools,
          signal,
          // Only a caller that listens gets the words as they come (the model streams then).
          onText: onEvent
            ? (text): void => {
                streamed = true;
                emit({ type: "text", text });
              }
            : undefined,
        });
        if (r.usage) span.setAttributes({ "gen_ai.usage.input_tokens": r.usage.prompt, "gen_ai.usage.output_tokens": r.usage.output + r.usage.thoughts });
        return r;
      });
      for (const k of ["prompt", "output", "thoughts", "total"] as const) usage[k] += reply.usage?.[k] ?? 0;
      const calls = reply.functionCalls ?? [];
      const text = reply.text ?? "";
      if (text && !streamed) emit({ type: "text", text });
      response += text;
      // The model's own content goes back unchanged: Gemini 3 refuses a step whose signatures moved.
      const parts: Part[] = reply.content?.parts ?? [...(text ? [{ text }] : []), ...calls.map((functionCall) => ({ functionCall }))];
      turn.push({ role: "model", parts });
      if (!calls.length) return finish();
      turn.push({ role: "user", parts: await this.#callAll(calls, signal, emit, toolCalls, timings) });
    }
    const text = `I stopped after ${MAX_TOOL_ROUNDS} rounds of tool calls without a final answer; please rephrase or narrow the question.`;
    turn.push({ role: "model", parts: [{ text }] });
    emit({ type: "text", text });
    response += text;
    return finish();
  }

  /** Runs one step's calls side by side (bounded); the responses go back together, in call order. */
  async #callAll(
    calls: FunctionCall[],
    signal: AbortSignal | undefined,
    emit: (e: TurnEvent) => void,
    record: ToolCallRecord[],
    timings: Array<{ name: string; ms: number; is_error: boolean }>,
  ): Promise<Part[]> {
    const results: Part[] = new Array(calls.length);
    const records: ToolCallRecord[] = new Array(calls.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < calls.length) {
        const i = next++;
        const call = calls[i]!;
        const t0 = Date.now();
        const { part, rec } = await this.#call(call, signal, emit);
        timings.push({ name: call.name, ms: Date.now() - t0, is_error: rec.is_error });
        results[i] = part;
        records[i] = rec;
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_TOOL_CALLS, calls.length) }, worker));
    record.push(...records);
    return results;
  }

  #call(call: FunctionCall, signal: AbortSignal | undefined, emit: (e: TurnEvent) => void): Promise<{ part: Part; rec: ToolCallRecord }> {
    const attributes = { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name, "gen_ai.tool.type": "extension", "gen_ai.tool.call.id": call.id };
    return inSpan(`execute_tool ${call.name}`, { attributes }, (span) => this.#runCall(call, signal, emit, span));
  }

  async #runCall(call: FunctionCall, signal: AbortSignal | undefined, emit: (e: TurnEvent) => void, span: Span): Promise<{ part: Part; rec: ToolCallRecord }> {
    const id = call.id ? { id: call.id } : {};
    emit({ type: "tool_call", ...id, name: call.name, arguments: call.args });
    let outcome: ToolOutcome;
    let thrown: string | undefined;
    try {
      outcome = await this.deps.tools.callTool(call.name, call.args, signal);
    } catch (err) {
      signal?.throwIfAborted();
      // A failed call goes back to the model as an error it can explain, not as a failed turn.
      outcome = { isError: true, text: `The tool could not be called: ${(err as Error).message}` };
      thrown = err instanceof Error ? err.name : "Error";
    }
    // GenAI conventions: error.type names the class of failure (the call's, or the tool's isError answer).
    if (outcome.isError) span.setError(thrown ?? "tool_error");
    if (captureContent()) span.setAttributes({ "gen_ai.tool.call.arguments": JSON.stringify(call.args), "gen_ai.tool.call.result": outcome.text });
    emit({ type: "tool_result", ...id, name: call.name, is_error: outcome.isError, result: outcome.text });
    const response = outcome.isError ? { error: outcome.text } : { output: outcome.structured ?? outcome.text };
    return {
      part: { functionResponse: { ...id, name: call.name, response } },
      rec: { name: call.name, arguments: call.args, is_error: outcome.isError, result: outcome.text },
    };
  }
}
