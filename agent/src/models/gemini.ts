import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiError,
  GoogleGenAI,
  type GenerateContentConfig,
  type GenerateContentResponse,
} from "@google/genai";
import { currentSpan } from "../../../common/trace-context.js";
import { AppError } from "../errors.js";
import {
  modelError,
  type Content,
  type Model,
  type ModelReply,
  type ModelRequest,
  type ModelStatus,
  type Part,
  type Usage,
} from "./types.js";

export type ThinkingLevel = "MINIMAL" | "LOW" | "MEDIUM" | "HIGH";

export interface GeminiOptions {
  model: string;
  apiKey?: string | undefined;
  vertexai?: { project: string; location: string } | undefined;
  baseUrl?: string | undefined;
  /** Sent only when set: Gemini 3 picks its own depth otherwise. */
  thinkingLevel?: ThinkingLevel | undefined;
  /** Google advises leaving these unset for Gemini 3 (defaults to 1.0; lower values can loop). */
  sampling?:
    | { temperature?: number | undefined; topP?: number | undefined; topK?: number | undefined }
    | undefined;
  /** Attempts for 5xx, network errors and 429s whose retry delay fits the budget. */
  attempts?: number;
  backoffMs?: number;
  /** The longest one generate() may spend waiting between attempts, RetryInfo delays included. */
  retryBudgetMs?: number;
  /** How long a model check (GET /ready) is trusted. */
  checkTtlMs?: number;
}

type Defaulted = "attempts" | "backoffMs" | "retryBudgetMs" | "checkTtlMs";
const RETRYABLE = new Set([408, 500, 502, 503, 504]);
const BLOCKED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "MODEL_ARMOR",
  "LANGUAGE",
  "IMAGE_SAFETY",
]);
/** Reasons a model answer fails that remember the model is unusable until the next check. */
const STICKY = new Set(["model_not_found", "model_permission_denied", "model_quota_exhausted"]);

interface Collected {
  parts: Part[];
  finishReason?: string | undefined;
  blockReason?: string | undefined;
  usage?: Usage | undefined;
}

export class GeminiModel implements Model {
  readonly name: string;
  readonly #ai: GoogleGenAI;
  readonly #opts: GeminiOptions & Required<Pick<GeminiOptions, Defaulted>>;
  #status: { value: ModelStatus; at: number } | undefined;

  constructor(opts: GeminiOptions) {
    this.name = opts.model;
    this.#opts = {
      ...opts,
      attempts: opts.attempts ?? 3,
      backoffMs: opts.backoffMs ?? 500,
      retryBudgetMs: opts.retryBudgetMs ?? 20_000,
      checkTtlMs: opts.checkTtlMs ?? 5 * 60_000,
    };
    const httpOptions = opts.baseUrl ? { baseUrl: opts.baseUrl } : undefined;
    this.#ai = new GoogleGenAI(
      opts.vertexai
        ? { enterprise: true, ...opts.vertexai, httpOptions }
        : { apiKey: opts.apiKey, httpOptions },
    );
  }

  async generate(req: ModelRequest): Promise<ModelReply> {
    const params = {
      model: this.#opts.model,
      contents: req.contents as never,
      config: this.#config(req),
    };
    const started = Date.now();
    // The turn's model call span is current: what only this model knows goes on it.
    const span = currentSpan();
    span?.setAttributes({
      "gen_ai.provider.name": this.#opts.vertexai ? "gcp.vertex_ai" : "gcp.gemini",
    });
    let malformed = 0;
    let emitted = false;
    const onText =
      req.onText &&
      ((delta: string): void => {
        emitted = true;
        req.onText?.(delta);
      });
    for (let attempt = 1; ; attempt++) {
      let got: Collected;
      try {
        got = onText
          ? await this.#stream(params, onText)
          : collect(await this.#ai.models.generateContent(params));
      } catch (err) {
        if (err instanceof AppError || req.signal?.aborted) throw err;
        // Words already sent can't be taken back: a retry would repeat them.
        if (emitted) throw this.#toModelError(err);
        await sleep(this.#retryWait(err, attempt, started), undefined, { signal: req.signal });
        continue;
      }
      const reason = got.finishReason ?? "STOP";
      span?.setAttributes({ "gen_ai.response.finish_reasons": [reason.toLowerCase()] });
      if (
        (reason === "MALFORMED_FUNCTION_CALL" || reason === "UNEXPECTED_TOOL_CALL") &&
        malformed++ === 0
      )
        continue;
      const reply = this.#reply(got, reason);
      this.#status = { value: { ok: true }, at: Date.now() };
      if (reply.notice) req.onText?.(reply.notice);
      return reply.reply;
    }
  }

  /** Asks the API for the model itself: no tokens spent, and a retired id answers 404. */
  async check(signal?: AbortSignal): Promise<ModelStatus> {
    if (this.#status && Date.now() - this.#status.at < this.#opts.checkTtlMs)
      return this.#status.value;
    try {
      await this.#ai.models.get({
        model: this.#opts.model,
        config: { abortSignal: signal, httpOptions: { timeout: 5_000 } },
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      // Remembered only when STICKY (#toModelError): a model that did not answer in time may be fine.
      const e = this.#toModelError(err);
      return { ok: false, ...e.body };
    }
    this.#status = { value: { ok: true }, at: Date.now() };
    return this.#status.value;
  }

  #config(req: ModelRequest): GenerateContentConfig {
    const tools = req.tools.length
      ? [
          {
            functionDeclarations: req.tools.map((t) => ({
              name: t.name,
              description: t.description,
              parametersJsonSchema: t.inputSchema,
            })),
          },
        ]
      : undefined;
    // Unset fields are not sent: the model's own defaults apply.
    const level = this.#opts.thinkingLevel;
    return {
      systemInstruction: req.system,
      tools,
      abortSignal: req.signal,
      thinkingConfig: level ? { thinkingLevel: level as never } : undefined,
      ...this.#opts.sampling,
    };
  }

  async #stream(
    params: Parameters<GoogleGenAI["models"]["generateContentStream"]>[0],
    onText: (delta: string) => void,
  ): Promise<Collected> {
    const got: Collected = { parts: [] };
    for await (const chunk of await this.#ai.models.generateContentStream(params)) {
      const c = collect(chunk);
      for (const part of c.parts) {
        if ("text" in part && !part.thought && part.text) onText(part.text);
        appendPart(got.parts, part);
      }
      got.finishReason = c.finishReason ?? got.finishReason;
      got.blockReason = c.blockReason ?? got.blockReason;
      // Each chunk's usage is the running total; the last one counts.
      got.usage = c.usage ?? got.usage;
    }
    return got;
  }

  #reply(got: Collected, reason: string): { reply: ModelReply; notice?: string } {
    const functionCalls = got.parts.flatMap((p) =>
      "functionCall" in p ? [{ ...p.functionCall, args: p.functionCall.args ?? {} }] : [],
    );
    const text = got.parts.map((p) => ("text" in p && !p.thought ? p.text : "")).join("");
    const refused = refusal(this.#opts.model, reason, got.blockReason, text, functionCalls.length);
    if (refused) throw refused;
    if (reason === "MAX_TOKENS") {
      const notice = "\n\n(The answer was cut short: the model reached its output limit.)";
      const content: Content = { role: "model", parts: [...got.parts, { text: notice }] };
      return { reply: { text: text + notice, content, usage: got.usage }, notice };
    }
    const content: Content = { role: "model", parts: got.parts };
    return { reply: { functionCalls, text, content, usage: got.usage } };
  }

  /** How long to wait before the next attempt, or the error to give up with. */
  #retryWait(err: unknown, attempt: number, started: number): number {
    const status = err instanceof ApiError ? err.status : undefined;
    const left = this.#opts.retryBudgetMs - (Date.now() - started);
    const backoff = this.#opts.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
    if (status === 429) {
      const info = apiErrorInfo(err);
      const detail = info.message.slice(0, 500);
      if (info.daily) {
        throw modelError(
          503,
          `The daily quota for ${this.#opts.model} is used up; it resets at midnight Pacific time (raise the quota or use another project)`,
          detail,
          "model_quota_exhausted",
        );
      }
      const wait = info.retryDelayMs ?? backoff;
      if (attempt < this.#opts.attempts && wait <= left) return wait;
      const seconds = Math.max(1, Math.ceil((info.retryDelayMs ?? 30_000) / 1000));
      throw modelError(
        503,
        `The model's rate limit was reached; try again in ${seconds} s`,
        detail,
        "model_rate_limited",
        seconds,
      );
    }
    if (
      (status === undefined || RETRYABLE.has(status)) &&
      attempt < this.#opts.attempts &&
      backoff <= left
    )
      return backoff;
    throw this.#toModelError(err);
  }

  #toModelError(err: unknown): AppError {
    const status = err instanceof ApiError ? err.status : undefined;
    const model = this.#opts.model;
    const info = apiErrorInfo(err);
    const detail = info.message.slice(0, 500);
    let e: AppError;
    if (status === 404) {
      e = modelError(
        502,
        `The model "${model}" was not found or has been retired: set GOOGLE_MODEL to a current model such as gemini-3.8-flash${this.#opts.vertexai ? " (and check GOOGLE_CLOUD_LOCATION, e.g. global)" : ""}`,
        detail,
        "model_not_found",
      );
    } else if (status === 401 || status === 403) {
      e = modelError(
        502,
        `The model ${model} refused the agent's credentials: check GOOGLE_API_KEY, or that the service account has roles/aiplatform.user`,
        detail,
        "model_permission_denied",
      );
    } else if (status === 429) {
      e = modelError(
        503,
        `The model ${model} is over its quota right now; try again later`,
        detail,
        "model_rate_limited",
      );
    } else if (status !== undefined && status < 500) {
      e = modelError(
        502,
        `The model ${model} rejected the request (check GOOGLE_THINKING_LEVEL and the sampling settings): ${info.apiMessage.slice(0, 200)}`,
        detail,
        "model_rejected",
      );
    } else {
      e = modelError(503, "The model is unavailable right now; try again shortly", detail);
    }
    if (STICKY.has(e.code)) this.#status = { value: { ok: false, ...e.body }, at: Date.now() };
    return e;
  }
}

/** Why a finished answer cannot be used (by its finish or block reason), or undefined when it can. */
function refusal(
  model: string,
  reason: string,
  blockReason: string | undefined,
  text: string,
  calls: number,
): AppError | undefined {
  if (blockReason) {
    const message = `The model declined to read this message (${blockReason}); rephrase it`;
    return modelError(502, message, `blockReason ${blockReason}`, "model_blocked");
  }
  const fail = (message: string, code: string): AppError =>
    modelError(502, `The model ${model} ${message}`, `finishReason ${reason}`, code);
  switch (reason) {
    case "STOP":
    case "FINISH_REASON_UNSPECIFIED":
      return calls || text
        ? undefined
        : fail("returned an empty answer; try again or rephrase", "model_empty");
    case "MAX_TOKENS":
      // Calls from a cut answer may be cut too: never run them.
      return text && !calls
        ? undefined
        : fail(
            "reached its output limit before finishing; ask a narrower question",
            "model_output_truncated",
          );
    case "MALFORMED_FUNCTION_CALL":
    case "UNEXPECTED_TOOL_CALL":
      return fail(
        "produced an invalid tool call twice; try rephrasing the question",
        "model_tool_call_invalid",
      );
    case "TOO_MANY_TOOL_CALLS":
      return fail(
        "tried to make too many tool calls at once; ask about fewer currencies or dates per message",
        "model_tool_call_limit",
      );
    default:
      return BLOCKED.has(reason)
        ? fail(
            `stopped its answer for content reasons (${reason}); rephrase the question`,
            "model_blocked",
          )
        : fail(`stopped without a usable answer (${reason}); try again`, "model_unavailable");
  }
}

/**
 * One response as this agent reads it. Its parts are kept as the API sent them, every field included:
 * signatures must go back exactly where they came.
 */
function collect(res: GenerateContentResponse): Collected {
  const cand = res.candidates?.[0];
  const u = res.usageMetadata;
  const usage = u
    ? {
        prompt: u.promptTokenCount ?? 0,
        output: u.candidatesTokenCount ?? 0,
        thoughts: u.thoughtsTokenCount ?? 0,
        total: u.totalTokenCount ?? 0,
      }
    : undefined;
  return {
    parts: (cand?.content?.parts ?? []) as Part[],
    finishReason: cand?.finishReason,
    blockReason: res.promptFeedback?.blockReason,
    usage,
  };
}

/** Streamed text arrives in pieces: join plain ones, but a signed or thought part keeps its place. */
function appendPart(parts: Part[], part: Part): void {
  const last = parts[parts.length - 1];
  const plain = (p: Part | undefined): p is { text: string } =>
    !!p && "text" in p && !p.thought && p.thoughtSignature === undefined;
  if (plain(last) && plain(part)) parts[parts.length - 1] = { text: last.text + part.text };
  else parts.push(part);
}

/** Reads google.rpc details out of an ApiError (its message is the JSON error body). */
function apiErrorInfo(err: unknown): {
  message: string;
  apiMessage: string;
  retryDelayMs?: number;
  daily: boolean;
} {
  const message = err instanceof Error ? err.message : String(err);
  type Detail = { "@type"?: string; retryDelay?: string; violations?: Array<{ quotaId?: string }> };
  let body: { error?: { message?: string; details?: Detail[] } } | undefined;
  try {
    body = JSON.parse(message) as typeof body;
  } catch {
    body = undefined;
  }
  const details = body?.error?.details ?? [];
  const delay = details.find((d) => d["@type"]?.endsWith("google.rpc.RetryInfo"))?.retryDelay;
  const seconds = delay ? /^(\d+(?:\.\d+)?)s$/.exec(delay)?.[1] : undefined;
  const daily = details.some(
    (d) =>
      d["@type"]?.endsWith("google.rpc.QuotaFailure") &&
      d.violations?.some((v) => /PerDay/i.test(v.quotaId ?? "")),
  );
  return {
    message,
    apiMessage: body?.error?.message ?? message,
    ...(seconds !== undefined ? { retryDelayMs: Math.ceil(Number(seconds) * 1000) } : {}),
    daily,
  };
}
