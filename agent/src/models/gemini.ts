import { ApiError, GoogleGenAI, type Content as GenAIContent } from "@google/genai";
import { ModelError, type FunctionCall, type Model, type ModelReply, type ModelRequest } from "./types.js";

export interface GeminiOptions {
  model: string;
  apiKey?: string | undefined;
  vertexai?: { project: string; location: string } | undefined;
  baseUrl?: string | undefined;
  /** Attempts for 429 and 5xx answers, with exponential backoff and jitter between them. */
  attempts?: number;
  backoffMs?: number;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export class GeminiModel implements Model {
  readonly name: string;
  readonly #ai: GoogleGenAI;
  readonly #attempts: number;
  readonly #backoffMs: number;

  constructor(private readonly opts: GeminiOptions) {
    this.name = opts.model;
    this.#attempts = opts.attempts ?? 3;
    this.#backoffMs = opts.backoffMs ?? 500;
    const httpOptions = opts.baseUrl ? { baseUrl: opts.baseUrl } : undefined;
    this.#ai = opts.vertexai
      ? new GoogleGenAI({ vertexai: true, project: opts.vertexai.project, location: opts.vertexai.location, httpOptions })
      : new GoogleGenAI({ apiKey: opts.apiKey, httpOptions });
  }

  async generate(req: ModelRequest): Promise<ModelReply> {
    const tools = req.tools.length
      ? [{ functionDeclarations: req.tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.inputSchema })) }]
      : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.#ai.models.generateContent({
          model: this.opts.model,
          contents: req.contents as GenAIContent[],
          config: { systemInstruction: req.system, tools, abortSignal: req.signal, temperature: 0 },
        });
        const calls: FunctionCall[] = (res.functionCalls ?? []).map((c) => ({ id: c.id, name: c.name ?? "", args: c.args ?? {} }));
        const text = res.candidates?.[0]?.content?.parts?.map((p) => p.text ?? "").join("") ?? "";
        if (calls.length) return { functionCalls: calls, text: text || undefined };
        if (!text) {
          const reason = res.candidates?.[0]?.finishReason ?? res.promptFeedback?.blockReason ?? "no candidates";
          throw new ModelError(502, "The model returned an empty answer", String(reason));
        }
        return { text };
      } catch (err) {
        if (err instanceof ModelError || req.signal?.aborted) throw err;
        const status = err instanceof ApiError ? err.status : undefined;
        const retryable = status === undefined || RETRYABLE.has(status);
        if (retryable && attempt < this.#attempts) {
          await sleep(this.#backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()), req.signal);
          continue;
        }
        throw toModelError(status, err);
      }
    }
  }
}

function toModelError(status: number | undefined, err: unknown): ModelError {
  const detail = err instanceof Error ? err.message.slice(0, 500) : String(err);
  if (status === 429) return new ModelError(503, "The model is over its quota or rate limit right now; try again shortly", detail);
  if (status === 401 || status === 403) return new ModelError(502, "The model refused the agent's credentials (check the API key or the service account's roles/aiplatform.user)", detail);
  if (status === 404) return new ModelError(502, "The configured model was not found (check GOOGLE_MODEL and GOOGLE_CLOUD_LOCATION)", detail);
  if (status !== undefined && status < 500) return new ModelError(502, `The model rejected the request (HTTP ${status})`, detail);
  return new ModelError(503, "The model is unavailable right now; try again shortly", detail);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}
