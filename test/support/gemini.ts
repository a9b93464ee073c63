// A Gemini API stand-in (Gemini API key paths and Vertex AI / Agent Platform paths), as strict as
// Gemini 3 is today. Tests and benchmarks only; never shipped.
//
// Follows, as read on 2026-11-25:
// - https://ai.google.dev/gemini-api/docs/thought-signatures: a function-call response carries a
//   thoughtSignature on its first functionCall part (parallel calls: the first only); a response
//   without calls carries one on its last part (streamed: possibly a final chunk with empty text).
//   Every step of the current turn must come back with its signature on the exact part, else
//   400 INVALID_ARGUMENT "Function call is missing a thought_signature in functionCall parts…".
//   The current turn starts at the newest user content with text (not a functionResponse).
// - https://ai.google.dev/gemini-api/docs/function-calling: function responses answer every call of
//   the step they follow, with the call's id.
// - https://ai.google.dev/gemini-api/docs/deprecations: the current models are Gemini 3.x; retired
//   ids answer 404 NOT_FOUND.
// - https://ai.google.dev/gemini-api/docs/gemini-3 and the Agent Platform "Gemini 3.8 Flash" guide:
//   thinking levels LOW/MEDIUM/HIGH on 3.8 Flash (MINIMAL refused by 3.7 and 3.8 Flash), level and
//   budget never together; temperature/topP/topK deprecated from 3.6 Flash and refused on Vertex AI.
// - The Agent Platform "Gemini 4 Hydrogen" guide (docs.cloud.google.com/gemini-enterprise-agent-
//   platform/models/guides/gemini-4-hydrogen, read 2026-12-08): LOW, MEDIUM, HIGH (the default) and
//   XHIGH; a short-term GA release. Its sampling rules are not quoted there; it is refused sampling
//   settings on Vertex AI like the 3.6+ Flash models it replaces.
// - https://ai.google.dev/gemini-api/docs/rate-limits and troubleshooting: 429 RESOURCE_EXHAUSTED
//   with google.rpc.QuotaFailure and google.rpc.RetryInfo {retryDelay: "46s"} details.
// - Streaming: POST …:streamGenerateContent?alt=sse answers `data: <GenerateContentResponse>` events;
//   the last chunk has finishReason and the usage totals.
// Error messages not quoted on those pages (the id-mismatch and thinking-level ones) are worded
// after reports of the real ones; the status codes are the documented ones.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;
type GPart = Json & {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { id?: string; name: string; args?: Json };
  functionResponse?: { id?: string; name: string; response?: Json };
};
type GContent = { role?: string; parts: GPart[] };

export interface RecordedRequest {
  path: string;
  stream: boolean;
  headers: Record<string, string | string[] | undefined>;
  body: {
    contents: GContent[];
    tools?: Array<{
      functionDeclarations?: Array<{
        name: string;
        parametersJsonSchema?: unknown;
        parameters?: unknown;
      }>;
    }>;
    systemInstruction?: unknown;
    generationConfig?: Json & { thinkingConfig?: Json };
  };
}

/**
 * One scripted answer: a candidate's parts (signed as the real API signs them unless `sign: false`),
 * with an optional finish reason; an HTTP error; or either after a delay.
 */
export type Scripted =
  | {
      parts: GPart[];
      finishReason?: string;
      sign?: boolean;
      delayMs?: number;
      blockReason?: string;
    }
  | { status: number; message?: string; statusText?: string; details?: Json[]; delayMs?: number };

/**
 * The models this stand-in serves, with the thinking levels each accepts and the one it uses when a
 * request names none; anything else is retired or unknown and answers 404. Defaults from the
 * Agent Platform model guides (3.8 Flash, 3.5 Flash, 4 Hydrogen).
 */
const MODELS: Record<string, { levels: string[]; byDefault: string }> = {
  "gemini-4-hydrogen": { levels: ["LOW", "MEDIUM", "HIGH", "XHIGH"], byDefault: "HIGH" },
  "gemini-3.8-flash": { levels: ["LOW", "MEDIUM", "HIGH"], byDefault: "MEDIUM" },
  "gemini-3.7-flash": { levels: ["LOW", "MEDIUM", "HIGH"], byDefault: "MEDIUM" },
  "gemini-3.6-flash": { levels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"], byDefault: "MEDIUM" },
  "gemini-3.5-flash": { levels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"], byDefault: "MEDIUM" },
  "gemini-3.5-flash-lite": { levels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"], byDefault: "MINIMAL" },
  "gemini-3.1-flash-lite": { levels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"], byDefault: "MINIMAL" },
  "gemini-3.1-pro-preview": { levels: ["LOW", "MEDIUM", "HIGH"], byDefault: "HIGH" },
};
export const CURRENT_MODELS = Object.keys(MODELS);
const NO_SAMPLING = new Set([
  "gemini-3.6-flash",
  "gemini-3.7-flash",
  "gemini-3.8-flash",
  "gemini-4-hydrogen",
]);
/**
 * Thought tokens reported per step at each level. The figures are this stand-in's, not Google's:
 * they only make visible which level ran (LOW's is the one the suites were written against).
 */
export const THOUGHTS: Record<string, number> = {
  MINIMAL: 0,
  LOW: 40,
  MEDIUM: 120,
  HIGH: 360,
  XHIGH: 1080,
};

export interface FakeGemini {
  url: string;
  requests: RecordedRequest[];
  /** Queue answers; when the queue is empty the default behaviour answers. */
  script(...answers: Scripted[]): void;
  close(): Promise<void>;
}

/** A 429 as the API sends it: a per-minute limit with a retry delay, or a per-day quota. */
export function rateLimited(retryDelaySeconds: number, opts: { daily?: boolean } = {}): Scripted {
  const quotaId = opts.daily
    ? "GenerateRequestsPerDayPerProjectPerModel"
    : "GenerateRequestsPerMinutePerProjectPerModel";
  return {
    status: 429,
    message: `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\nPlease retry in ${retryDelaySeconds}s.`,
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_requests",
            quotaId,
            quotaDimensions: { location: "global", model: "gemini-4-hydrogen" },
            quotaValue: "10",
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryDelaySeconds}s` },
    ],
  };
}

export function defaultAnswer(body: RecordedRequest["body"]): GPart[] {
  const last = body.contents[body.contents.length - 1];
  const responses = (last?.parts ?? []).flatMap((p) =>
    p.functionResponse ? [p.functionResponse] : [],
  );
  if (responses.length) {
    // Our agent sends {output: structuredContent}; ADK sends the MCP CallToolResult itself.
    type Rates = { amount?: number; base?: string; date?: string; rates?: Record<string, number> };
    const sentences = responses.map((fr) => {
      const r = (fr.response ?? {}) as {
        output?: Rates;
        structuredContent?: Rates;
        error?: unknown;
      };
      if (r.error) return `The tool failed: ${String(r.error)}`;
      const out = r.output ?? r.structuredContent;
      const [to, value] = Object.entries(out?.rates ?? {})[0] ?? [];
      return `${out?.amount} ${out?.base} is ${value} ${to} (rate of ${out?.date}).`;
    });
    return [{ text: sentences.join(" ") }];
  }
  const text = (last?.parts.map((p) => String(p.text ?? "")).join(" ") ?? "").toUpperCase();
  const declared = body.tools
    ?.flatMap((t) => t.functionDeclarations ?? [])
    .some((d) => d.name === "get_exchange_rate");
  const codes = (text.match(/\b[A-Z]{3}\b/g) ?? []).filter((c) => ISO.has(c));
  if (!declared || codes.length < 2) return [{ text: "I can help with exchange rates." }];
  const amount = Number(/\d+(\.\d+)?/.exec(text)?.[0] ?? 1);
  // "100 USD in EUR and GBP": one call per target, side by side, as Gemini does.
  return codes.slice(1).map((to) => ({
    functionCall: {
      name: "get_exchange_rate",
      args: { currency_from: codes[0], currency_to: to, amount },
    },
  }));
}

// Enough ISO codes for a "brain" that reads currencies the way a model would, not English words.
const ISO = new Set(
  "AED ARS AUD BGN BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF IDR ILS INR ISK JPY KRW MXN MYR NGN NOK NZD PHP PLN RON SEK SGD THB TRY USD ZAR".split(
    " ",
  ),
);

const SECRET = randomBytes(16).toString("hex");
/** What a signature vouches for: the part it was issued on, so one moved elsewhere fails. */
function digest(part: GPart): string {
  const what = part.functionCall
    ? { fc: part.functionCall.name, args: part.functionCall.args ?? {}, id: part.functionCall.id }
    : { text: part.text ?? "" };
  return createHash("sha256")
    .update(SECRET)
    .update(JSON.stringify(what))
    .digest("base64url")
    .slice(0, 32);
}
const sign = (part: GPart): string =>
  Buffer.from(`sig1.${digest(part)}.${randomBytes(12).toString("base64url")}`).toString("base64");
function verify(part: GPart): boolean {
  const raw = Buffer.from(String(part.thoughtSignature), "base64").toString();
  return raw.split(".")[1] === digest(part);
}

class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status = "INVALID_ARGUMENT",
  ) {
    super(message);
  }
}

/** The checks Gemini 3 makes on a request before it answers. */
function validate(model: string, vertex: boolean, body: RecordedRequest["body"]): void {
  if (!Array.isArray(body.contents) || body.contents.length === 0)
    throw new Refusal(400, "* GenerateContentRequest.contents: contents is not specified");
  const gc = body.generationConfig ?? {};
  const thinking = gc.thinkingConfig ?? {};
  if (thinking.thinkingLevel !== undefined && thinking.thinkingBudget !== undefined) {
    throw new Refusal(400, "You can only set only one of thinking budget and thinking level.");
  }
  if (thinking.thinkingLevel !== undefined) {
    const level = String(thinking.thinkingLevel);
    if (!Object.hasOwn(THOUGHTS, level))
      throw new Refusal(
        400,
        `Invalid value at 'generation_config.thinking_config.thinking_level' (type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel), "${level}"`,
      );
    const { levels } = MODELS[model]!;
    if (!levels.includes(level))
      throw new Refusal(
        400,
        `Thinking level ${level} is not supported for model ${model}. Use ${levels.slice(0, -1).join(", ")} or ${levels.at(-1)}.`,
      );
  }
  if (vertex && NO_SAMPLING.has(model)) {
    for (const k of ["temperature", "topP", "topK"]) {
      if (gc[k] !== undefined)
        throw new Refusal(400, `${k} is not supported for model ${model}; leave it unset.`);
    }
  }
  // Every signature must be one this service issued for exactly that part.
  for (const [i, c] of body.contents.entries()) {
    for (const p of c.parts) {
      if (p.thoughtSignature !== undefined && !verify(p))
        throw new Refusal(
          400,
          `Corrupted thought signature. Additional data, content position ${i}.`,
        );
    }
  }
  // The current turn: from the newest user content with text (function responses don't start one).
  let start = body.contents.length - 1;
  while (
    start > 0 &&
    !(
      body.contents[start]!.role === "user" &&
      body.contents[start]!.parts.some((p) => typeof p.text === "string")
    )
  )
    start--;
  for (let i = start + 1; i < body.contents.length; i++) {
    const c = body.contents[i]!;
    const calls = c.parts.filter((p) => p.functionCall);
    if (c.role !== "model" || calls.length === 0) continue;
    if (calls[0]!.thoughtSignature === undefined) {
      throw new Refusal(
        400,
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${calls[0]!.functionCall!.name}\` , position ${i + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    }
    const next = body.contents[i + 1];
    if (!next) continue;
    const responses = next.parts.filter((p) => p.functionResponse);
    if (responses.length !== calls.length) {
      throw new Refusal(
        400,
        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
      );
    }
    const ids = calls
      .map((p) => p.functionCall!.id)
      .filter(Boolean)
      .sort();
    const answered = responses
      .map((p) => p.functionResponse!.id)
      .filter(Boolean)
      .sort();
    if (ids.length && JSON.stringify(ids) !== JSON.stringify(answered)) {
      throw new Refusal(
        400,
        `Function response ids [${answered.join(", ")}] do not match the function call ids [${ids.join(", ")}] of the previous turn.`,
      );
    }
  }
}

/** Issues ids and signatures the way the API does. */
function finishParts(parts: GPart[], signParts: boolean): GPart[] {
  const out = parts.map((p) =>
    p.functionCall && !p.functionCall.id
      ? { ...p, functionCall: { ...p.functionCall, id: randomBytes(4).toString("hex") } }
      : { ...p },
  );
  if (!signParts) return out;
  const firstCall = out.find((p) => p.functionCall);
  const target = firstCall ?? out[out.length - 1];
  if (target) target.thoughtSignature = sign(target);
  return out;
}

export async function startGemini(
  opts: { port?: number; host?: string } = {},
): Promise<FakeGemini> {
  const requests: RecordedRequest[] = [];
  const queue: Scripted[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const path = url.pathname;
      const send = (status: number, body: unknown): void => {
        res
          .writeHead(status, { "content-type": "application/json; charset=UTF-8" })
          .end(JSON.stringify(body));
      };
      const error = (code: number, message: string, status: string, details?: Json[]): void =>
        send(code, { error: { code, message, status, ...(details ? { details } : {}) } });
      const m =
        /^\/(v1beta|v1|v1beta1)\/(projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/)?models\/([^/:]+)(?::(generateContent|streamGenerateContent))?$/.exec(
          path,
        );
      if (
        !m ||
        (req.method === "GET") !== (m[6] === undefined) ||
        (req.method !== "GET" && req.method !== "POST")
      ) {
        return error(404, `no route ${req.method} ${path}`, "NOT_FOUND");
      }
      const vertex = Boolean(m[2]);
      const model = m[5]!;
      const authorised = vertex
        ? /^Bearer \S+/.test(String(req.headers.authorization ?? ""))
        : Boolean(req.headers["x-goog-api-key"]);
      if (!authorised)
        return error(
          401,
          "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
          "UNAUTHENTICATED",
        );
      if (!CURRENT_MODELS.includes(model)) {
        return vertex
          ? error(
              404,
              `Publisher Model \`projects/${m[3]}/locations/${m[4]}/publishers/google/models/${model}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
              "NOT_FOUND",
            )
          : error(
              404,
              `models/${model} is not found for API version ${m[1]}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
              "NOT_FOUND",
            );
      }
      if (req.method === "GET") {
        return send(200, {
          name: vertex ? `publishers/google/models/${model}` : `models/${model}`,
          displayName: model,
          supportedGenerationMethods: ["generateContent", "countTokens"],
        });
      }
      const stream = m[6] === "streamGenerateContent";
      if (stream && url.searchParams.get("alt") !== "sse")
        return error(
          400,
          "This stand-in streams only with alt=sse, as @google/genai asks.",
          "INVALID_ARGUMENT",
        );
      let body: RecordedRequest["body"];
      try {
        body = JSON.parse(raw) as RecordedRequest["body"];
      } catch {
        return error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT");
      }
      requests.push({ path, stream, headers: req.headers, body });
      try {
        validate(model, vertex, body);
      } catch (e) {
        if (e instanceof Refusal) return error(e.code, e.message, e.status);
        throw e;
      }
      const next = queue.shift();
      const answer = (): void => {
        if (next && "status" in next) {
          const status =
            next.statusText ??
            (next.status === 429
              ? "RESOURCE_EXHAUSTED"
              : next.status === 404
                ? "NOT_FOUND"
                : next.status >= 500
                  ? "UNAVAILABLE"
                  : "INVALID_ARGUMENT");
          return error(next.status, next.message ?? "scripted error", status, next.details);
        }
        const parts = finishParts(next?.parts ?? defaultAnswer(body), next?.sign ?? true);
        const finishReason = next?.finishReason ?? "STOP";
        // The model thinks at the level asked for, or at its own default when none is.
        const level = String(body.generationConfig?.thinkingConfig?.thinkingLevel ?? "");
        const thoughts = THOUGHTS[level] ?? THOUGHTS[MODELS[model]!.byDefault]!;
        const usageMetadata = {
          promptTokenCount: 120,
          candidatesTokenCount: 12,
          thoughtsTokenCount: thoughts,
          totalTokenCount: 132 + thoughts,
        };
        const blocked = next?.blockReason
          ? { promptFeedback: { blockReason: next.blockReason } }
          : {};
        if (!stream) {
          const candidates = next?.blockReason
            ? []
            : [{ content: { role: "model", parts }, finishReason, index: 0 }];
          return send(200, {
            candidates,
            usageMetadata,
            modelVersion: model,
            responseId: randomBytes(8).toString("hex"),
            ...blocked,
          });
        }
        writeStream(res, model, parts, finishReason, usageMetadata, blocked);
      };
      if (next?.delayMs) setTimeout(answer, next.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    url: `http://${host}:${port}`,
    requests,
    script: (...answers) => void queue.push(...answers),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Streams as the API does: text word by word, a function call whole in one chunk, and a text
 * answer's signature in a final chunk whose part has empty text; the last chunk has finishReason
 * and the usage totals.
 */
function writeStream(
  res: ServerResponse,
  model: string,
  parts: GPart[],
  finishReason: string,
  usage: Json,
  extra: Json,
): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunks: GPart[][] = [];
  for (const p of parts) {
    if (typeof p.text === "string" && !p.functionCall) {
      const words = p.text.match(/\S+\s*/g) ?? [];
      for (const w of words) chunks.push([{ text: w, ...(p.thought ? { thought: true } : {}) }]);
      // Streamed, the signature comes on an empty part of its own (and vouches for that part).
      if (p.thoughtSignature) chunks.push([{ text: "", thoughtSignature: sign({ text: "" }) }]);
    } else {
      chunks.push([p]);
    }
  }
  if (chunks.length === 0) chunks.push([]);
  chunks.forEach((c, i) => {
    const last = i === chunks.length - 1;
    const candidate = {
      content: { role: "model", parts: c },
      index: 0,
      ...(last ? { finishReason } : {}),
    };
    const body = {
      candidates: [candidate],
      usageMetadata: last ? usage : { promptTokenCount: usage.promptTokenCount },
      modelVersion: model,
      ...(last ? extra : {}),
    };
    res.write(`data: ${JSON.stringify(body)}\r\n\r\n`);
  });
  res.end();
}

// CLI: node --import tsx test/support/gemini.ts [--port N] [--host H]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const g = await startGemini({
    port: Number(arg("--port") ?? 0),
    host: arg("--host") ?? "127.0.0.1",
  });
  console.log(JSON.stringify({ url: g.url }));
  const stop = (): void => void g.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
