// A Gemini-compatible generateContent server (API-key and Vertex AI paths), recording each request
// and answering from a script, or by default: call get_exchange_rate for the currencies in the
// prompt, then answer in text from the function response. Tests and benchmarks only.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: {
    contents: Array<{ role?: string; parts: Array<Record<string, unknown>> }>;
    tools?: Array<{ functionDeclarations?: Array<{ name: string; parametersJsonSchema?: unknown; parameters?: unknown }> }>;
    systemInstruction?: unknown;
    generationConfig?: unknown;
  };
}

/** One scripted answer: a candidate's parts, or an HTTP error status. */
export type Scripted = { parts: Array<Record<string, unknown>> } | { status: number; message?: string };

export interface FakeGemini {
  url: string;
  requests: RecordedRequest[];
  /** Queue answers; when the queue is empty the default behaviour answers. */
  script(...answers: Scripted[]): void;
  close(): Promise<void>;
}

export function defaultAnswer(body: RecordedRequest["body"]): Array<Record<string, unknown>> {
  const last = body.contents[body.contents.length - 1];
  const response = last?.parts.find((p) => "functionResponse" in p)?.functionResponse as { name: string; response: Record<string, unknown> } | undefined;
  if (response) {
    // Our agent sends {output: structuredContent}; ADK sends the MCP CallToolResult itself.
    type Rates = { amount?: number; base?: string; date?: string; rates?: Record<string, number> };
    const r = response.response as { output?: Rates; structuredContent?: Rates };
    const out = r.output ?? r.structuredContent;
    const err = response.response.error;
    if (err) return [{ text: `The tool failed: ${String(err)}` }];
    const [to, value] = Object.entries(out?.rates ?? {})[0] ?? [];
    return [{ text: `${out?.amount} ${out?.base} is ${value} ${to} (ECB reference rate of ${out?.date}).` }];
  }
  const text = (last?.parts.map((p) => String(p.text ?? "")).join(" ") ?? "").toUpperCase();
  const declared = body.tools?.flatMap((t) => t.functionDeclarations ?? []).some((d) => d.name === "get_exchange_rate");
  const codes = text.match(/\b[A-Z]{3}\b/g) ?? [];
  if (!declared || codes.length < 2) return [{ text: "I can help with exchange rates." }];
  const amount = Number(/\d+(\.\d+)?/.exec(text)?.[0] ?? 1);
  return [{ functionCall: { name: "get_exchange_rate", args: { currency_from: codes[0], currency_to: codes[1], amount } } }];
}

export async function startGemini(opts: { port?: number; host?: string } = {}): Promise<FakeGemini> {
  const requests: RecordedRequest[] = [];
  const queue: Scripted[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      const m = /^\/(v1beta|v1|v1beta1)\/(?:projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/)?models\/([^/:]+):generateContent$/.exec(path);
      if (req.method !== "POST" || !m) return send(404, { error: { code: 404, message: `no route ${req.method} ${path}`, status: "NOT_FOUND" } });
      let body: RecordedRequest["body"];
      try {
        body = JSON.parse(raw) as RecordedRequest["body"];
      } catch {
        return send(400, { error: { code: 400, message: "Invalid JSON payload", status: "INVALID_ARGUMENT" } });
      }
      requests.push({ path, headers: req.headers, body });
      const vertex = path.includes("/projects/");
      const authorised = vertex ? /^Bearer \S+/.test(String(req.headers.authorization ?? "")) : Boolean(req.headers["x-goog-api-key"]);
      if (!authorised) return send(401, { error: { code: 401, message: "Request is missing required authentication credential.", status: "UNAUTHENTICATED" } });
      const next = queue.shift();
      if (next && "status" in next) {
        return send(next.status, { error: { code: next.status, message: next.message ?? "scripted error", status: next.status === 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE" } });
      }
      const parts = next?.parts ?? defaultAnswer(body);
      send(200, {
        candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
        modelVersion: m[2],
      });
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    url: `http://${host}:${port}`,
    requests,
    script: (...answers) => void queue.push(...answers),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

// CLI: node --import tsx test/support/gemini.ts [--port N] [--host H]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const g = await startGemini({ port: Number(arg("--port") ?? 0), host: arg("--host") ?? "127.0.0.1" });
  console.log(JSON.stringify({ url: g.url }));
  const stop = (): void => void g.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
