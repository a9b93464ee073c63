// The one interface every model implements; the chat loop drives it without knowing which it is.
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
export type Part = { text: string } | { functionCall: FunctionCall } | { functionResponse: FunctionResponse };
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
}

export type ModelReply = { functionCalls: FunctionCall[]; text?: string | undefined } | { functionCalls?: undefined; text: string };

export interface Model {
  /** e.g. "gemini-2.5-flash" or "offline"; shown by GET /. */
  readonly name: string;
  generate(req: ModelRequest): Promise<ModelReply>;
}

/** The model could not answer (after retries); status is what the HTTP caller gets. */
export class ModelError extends Error {
  constructor(
    readonly status: 502 | 503,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "ModelError";
  }
}
