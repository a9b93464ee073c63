import { AppError, publicText } from "../errors.js";
// The one interface every model implements; the turn drives it without knowing which it is.
// Messages use Gemini's content shape, which any function-calling model can map to.

export interface FunctionCall {
  id?: string | undefined;
  name: string;
  args: Record<string, unknown>;
}
export interface FunctionResponse {
  id?: string | undefined;
  name: string;
  response: Record<string, unknown>;
}
/**
 * Gemini 3 signs its reasoning: a part may carry an opaque `thoughtSignature` (and `thought: true`
 * for a thought summary). They are kept and sent back exactly where they came, or the API refuses
 * the next step of a tool turn.
 */
export interface Signed {
  thoughtSignature?: string | undefined;
  thought?: boolean | undefined;
}
export type Part = (
  | { text: string }
  | { functionCall: FunctionCall }
  | { functionResponse: FunctionResponse }
) &
  Signed;
export interface Content {
  role: "user" | "model";
  parts: Part[];
}

export interface ToolSpec {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  system: string;
  contents: readonly Content[];
  tools: readonly ToolSpec[];
  signal?: AbortSignal | undefined;
  /** Called with each piece of answer text as the model produces it (streaming); thoughts excluded. */
  onText?: ((delta: string) => void) | undefined;
}

/** Tokens one model call used; `thoughts` are billed as output. */
export interface Usage {
  prompt: number;
  output: number;
  thoughts: number;
  total: number;
}

export interface ModelReply {
  /** The calls to run, in the model's order. Empty or absent: `text` is the answer. */
  functionCalls?: FunctionCall[] | undefined;
  /** The answer, or text the model said beside its calls. Thoughts are never here. */
  text?: string | undefined;
  /**
   * The model's turn exactly as it came, signatures and thought parts included. History keeps this
   * one when present; a model without it (the offline planner) gets its calls and text recorded.
   */
  content?: Content | undefined;
  usage?: Usage | undefined;
}

export interface Model {
  /** e.g. "gemini-3.8-flash" or "offline"; shown by GET /. */
  readonly name: string;
  generate(req: ModelRequest): Promise<ModelReply>;
  /** Whether the model can be used at all (exists, credentials, quota): cheap, no tokens spent. */
  check?(signal?: AbortSignal): Promise<ModelStatus>;
}

export type ModelStatus = { ok: true } | { ok: false; code: string; message: string };

/** The model could not answer (after retries); status is what the HTTP caller gets. */
export function modelError(
  status: 502 | 503,
  message: string,
  detail?: string,
  /** Machine-readable reason, e.g. model_not_found, model_blocked. */
  code = "model_unavailable",
  /** When the caller may try again, from the API's RetryInfo. */
  retryAfterSeconds?: number,
): AppError {
  return new AppError(status, code, publicText(message), { detail, retryAfterSeconds });
}
