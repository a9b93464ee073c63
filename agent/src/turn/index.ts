// One turn of the conversation as a stream of events: the model is asked, the tools it calls run, and
// the model is asked again until it answers. Every consumer (/chat, /chat/stream, traces, logs) reads
// the same stream.
import { captureContent, inSpan, type Span } from "../../../common/trace-context.js";
import type { Logger } from "../../../common/log.js";
import type { Content, FunctionCall, Model, Part, ToolSpec, Usage } from "../models/types.js";
import type { SessionHandle, SessionKey, SessionStore } from "../sessions/index.js";

export const MAX_TOOL_ROUNDS = 5;
/** Parallel calls from one model step run at most this many at a time. */
export const MAX_PARALLEL_TOOL_CALLS = 4;

/** What the turn needs from the MCP connection. */
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
  | { type: "text"; text: string }
  /** The last event of a turn that completed and was saved. */
  | { type: "done"; response: string; tool_calls: ToolCallRecord[]; usage: Usage };

export interface TurnDeps {
  model: Model;
  tools: ToolHost;
  store: SessionStore;
  logger: Logger;
  /** The application name: part of every session key, and the agent's name in traces. */
  app: string;
  instruction: string;
}

export interface TurnOptions {
  signal?: AbortSignal | undefined;
  /** Ask the model to stream, so text events come word by word rather than once per model step. */
  streamText?: boolean;
}

/**
 * Runs one turn: serialised per session, bounded in tool rounds, history saved only when it
 * completes. The stream ends with `done`, or fails with the error (the signal's reason when aborted).
 */
export function runTurn(
  deps: TurnDeps,
  ids: { userId: string; sessionId: string },
  message: string,
  opts: TurnOptions = {},
): AsyncIterable<TurnEvent> {
  const key: SessionKey = { app: deps.app, ...ids };
  // One span per turn (OpenTelemetry GenAI agent spans), the wait for the session's lock included.
  const attributes = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": deps.app,
    "gen_ai.conversation.id": ids.sessionId,
  };
  return eventStream<TurnEvent>(
    (emit) =>
      inSpan(`invoke_agent ${deps.app}`, { attributes }, async (span) => {
        const done = await deps.store.withSession(
          key,
          (session) => turn(deps, key, session, message, opts, emit),
          opts.signal,
        );
        if (captureContent()) recordMessages(span, message, done.response);
        emit(done);
      }),
    opts.signal,
  );
}

/** Whether a conversation is stored under these ids: an anonymous caller may continue only those. */
export async function hasConversation(
  deps: TurnDeps,
  ids: { userId: string; sessionId: string },
): Promise<boolean> {
  const key = { app: deps.app, ...ids };
  return (await storeSpan("load", key, () => deps.store.load(key))).length > 0;
}

type Emit = (e: TurnEvent) => void;
type Timing = { name: string; ms: number; is_error: boolean };

async function turn(
  deps: TurnDeps,
  key: SessionKey,
  session: SessionHandle,
  message: string,
  opts: TurnOptions,
  emit: Emit,
): Promise<Extract<TurnEvent, { type: "done" }>> {
  const started = Date.now();
  // The MCP connection fails with an AppError (mcp_unavailable) that says what to check.
  const tools = await deps.tools.listTools();
  const history = await storeSpan("load", key, () => session.load());
  const added: Content[] = [{ role: "user", parts: [{ text: message }] }];
  const toolCalls: ToolCallRecord[] = [];
  const timings: Timing[] = [];
  const usage: Usage = { prompt: 0, output: 0, thoughts: 0, total: 0 };
  let response = "";
  let rounds = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (rounds === MAX_TOOL_ROUNDS) {
      const text = `I stopped after ${MAX_TOOL_ROUNDS} rounds of tool calls without a final answer; please rephrase or narrow the question.`;
      added.push({ role: "model", parts: [{ text }] });
      emit({ type: "text", text });
      response += text;
      break;
    }
    rounds++;
    const reply = await askModel(deps, [...history, ...added], tools, opts, emit, usage);
    added.push(reply.content);
    response += reply.text;
    if (!reply.calls.length) break;
    const results = await callAll(deps.tools, reply.calls, opts.signal, emit, toolCalls, timings);
    added.push({ role: "user", parts: results });
  }
  await storeSpan("save", key, () => session.save([...history, ...added]));
  deps.logger.log("INFO", "turn answered", {
    model: deps.model.name,
    rounds,
    tools: timings,
    usage,
    duration_ms: Date.now() - started,
  });
  return { type: "done", response, tool_calls: toolCalls, usage };
}

/** One model step, as a GenAI inference span; text is emitted as it comes when streaming. */
async function askModel(
  deps: TurnDeps,
  contents: Content[],
  tools: ToolSpec[],
  opts: TurnOptions,
  emit: Emit,
  usage: Usage,
): Promise<{ text: string; calls: FunctionCall[]; content: Content }> {
  const model = deps.model.name;
  const attributes = { "gen_ai.operation.name": "chat", "gen_ai.request.model": model };
  let streamed = false;
  const reply = await inSpan(`chat ${model}`, { kind: "client", attributes }, async (span) => {
    const r = await deps.model.generate({
      system: deps.instruction,
      contents,
      tools,
      signal: opts.signal,
      onText: opts.streamText
        ? (text): void => {
            streamed = true;
            emit({ type: "text", text });
          }
        : undefined,
    });
    if (r.usage) {
      span.setAttributes({
        "gen_ai.usage.input_tokens": r.usage.prompt,
        "gen_ai.usage.output_tokens": r.usage.output + r.usage.thoughts,
      });
    }
    return r;
  });
  for (const k of ["prompt", "output", "thoughts", "total"] as const)
    usage[k] += reply.usage?.[k] ?? 0;
  const calls = reply.functionCalls ?? [];
  const text = reply.text ?? "";
  if (text && !streamed) emit({ type: "text", text });
  // The model's own content goes back unchanged: Gemini 3 refuses a step whose signatures moved.
  const parts: Part[] = reply.content?.parts ?? [
    ...(text ? [{ text }] : []),
    ...calls.map((functionCall) => ({ functionCall })),
  ];
  return { text, calls, content: { role: "model", parts } };
}

/** Runs one step's calls side by side (bounded); the responses go back together, in call order. */
async function callAll(
  tools: ToolHost,
  calls: FunctionCall[],
  signal: AbortSignal | undefined,
  emit: Emit,
  record: ToolCallRecord[],
  timings: Timing[],
): Promise<Part[]> {
  const done: Array<{ part: Part; rec: ToolCallRecord }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < calls.length; i = next++) {
      const t0 = Date.now();
      done[i] = await callOne(tools, calls[i]!, signal, emit);
      timings.push({ name: calls[i]!.name, ms: Date.now() - t0, is_error: done[i]!.rec.is_error });
    }
  };
  const workers = Math.min(MAX_PARALLEL_TOOL_CALLS, calls.length);
  await Promise.all(Array.from({ length: workers }, worker));
  record.push(...done.map((d) => d.rec));
  return done.map((d) => d.part);
}

/** One tool call as a GenAI execute_tool span; a failed call goes back to the model as an error. */
function callOne(
  tools: ToolHost,
  call: FunctionCall,
  signal: AbortSignal | undefined,
  emit: Emit,
): Promise<{ part: Part; rec: ToolCallRecord }> {
  const attributes = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": call.name,
    "gen_ai.tool.type": "extension",
    "gen_ai.tool.call.id": call.id,
  };
  return inSpan(`execute_tool ${call.name}`, { attributes }, async (span: Span) => {
    const id = call.id ? { id: call.id } : {};
    emit({ type: "tool_call", ...id, name: call.name, arguments: call.args });
    let outcome: ToolOutcome;
    let thrown: string | undefined;
    try {
      outcome = await tools.callTool(call.name, call.args, signal);
    } catch (err) {
      signal?.throwIfAborted();
      outcome = { isError: true, text: `The tool could not be called: ${(err as Error).message}` };
      thrown = err instanceof Error ? err.name : "Error";
    }
    // GenAI conventions: error.type names the class of failure (the call's, or the tool's isError).
    if (outcome.isError) span.setError(thrown ?? "tool_error");
    if (captureContent()) {
      span.setAttributes({
        "gen_ai.tool.call.arguments": JSON.stringify(call.args),
        "gen_ai.tool.call.result": outcome.text,
      });
    }
    const result = outcome.text;
    emit({ type: "tool_result", ...id, name: call.name, is_error: outcome.isError, result });
    const response = outcome.isError ? { error: result } : { output: outcome.structured ?? result };
    return {
      part: { functionResponse: { ...id, name: call.name, response } },
      rec: { name: call.name, arguments: call.args, is_error: outcome.isError, result },
    };
  });
}

/** The store's reads and writes as spans of their own: a slow Firestore shows as what it is. */
function storeSpan<T>(op: "load" | "save", key: SessionKey, fn: () => Promise<T>): Promise<T> {
  const attributes = { "gen_ai.conversation.id": key.sessionId, "session_store.operation": op };
  return inSpan(`session_store ${op}`, { attributes }, fn);
}

/** Message text on the turn's span, only when the GenAI content-capture setting asks for it. */
function recordMessages(span: Span, message: string, response: string): void {
  const text = (role: string, content: string, extra = {}): string =>
    JSON.stringify([{ role, parts: [{ type: "text", content }], ...extra }]);
  span.setAttributes({
    "gen_ai.input.messages": text("user", message),
    "gen_ai.output.messages": text("assistant", response, { finish_reason: "stop" }),
  });
}

/**
 * An async iterable over the events `run` emits. It ends when `run` settles, fails with its error,
 * and fails at once with the signal's reason when the signal aborts (the run sees the signal too).
 */
export function eventStream<T>(
  run: (emit: (e: T) => void) => Promise<void>,
  signal?: AbortSignal,
): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      const queue: T[] = [];
      let end: { error?: unknown; aborted?: boolean } | undefined;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      const onAbort = (): void => {
        end ??= { error: signal!.reason, aborted: true };
        notify();
      };
      if (signal?.aborted) throw signal.reason;
      signal?.addEventListener("abort", onAbort, { once: true });
      run((e) => {
        queue.push(e);
        notify();
      }).then(
        () => {
          end ??= {};
          notify();
        },
        (error: unknown) => {
          end ??= { error };
          notify();
        },
      );
      try {
        for (;;) {
          if (end?.aborted) throw end.error;
          if (queue.length) yield queue.shift()!;
          else if (end) {
            if ("error" in end) throw end.error;
            return;
          } else await new Promise<void>((r) => (wake = r));
        }
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}
