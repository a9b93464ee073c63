// The real @google/genai client against a Gemini-compatible local server, both request shapes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChatService, type ToolHost } from "../src/chat.js";
import { silentLogger } from "../src/log.js";
import { GeminiModel } from "../src/models/gemini.js";
import { ModelError } from "../src/models/types.js";
import { MemorySessionStore } from "../src/sessions.js";
import { startGemini, type FakeGemini } from "../../test/support/gemini.js";
import { startMetadataServer, type MetadataServer } from "../../test/support/metadata-server.js";

const TOOLS = [
  {
    name: "get_exchange_rate",
    description: "Converts an amount",
    inputSchema: { type: "object", properties: { currency_from: { type: "string" }, currency_to: { type: "string" }, amount: { type: "number" } } },
  },
];
const tools: ToolHost = {
  listTools: async () => TOOLS,
  callTool: async (_name, args) =>
    args.currency_to === "XYZ"
      ? { isError: true, text: "Unknown currency XYZ" }
      : { isError: false, text: "100 USD = 92.208 EUR", structured: { amount: 100, base: "USD", date: "2025-01-10", rates: { EUR: 92.208 } } },
};
const chatWith = (model: GeminiModel) =>
  new ChatService({ model, tools, store: new MemorySessionStore({ ttlMs: 60_000, maxSessions: 10, maxMessages: 40 }), logger: silentLogger, app: "t" });

describe("Gemini through @google/genai", () => {
  let gemini: FakeGemini;
  let metadata: MetadataServer;
  const saved = { ...process.env };
  before(async () => {
    gemini = await startGemini();
    metadata = await startMetadataServer();
    // Vertex AI authenticates with ADC: on Cloud Run that is the metadata server.
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.METADATA_SERVER_DETECTION = "assume-present";
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  });
  after(async () => {
    process.env = saved;
    await gemini?.close();
    await metadata?.close();
  });

  it("API key: declares the MCP tools, runs the function call, returns the answer", async () => {
    const model = new GeminiModel({ model: "gemini-2.5-flash", apiKey: "test-key", baseUrl: gemini.url });
    const before = gemini.requests.length;
    const r = await chatWith(model).runTurn({ userId: "u", sessionId: "s" }, "What is 100 USD in EUR?");
    assert.equal(r.response, "100 USD is 92.208 EUR (ECB reference rate of 2025-01-10).");
    const [first, second] = gemini.requests.slice(before);
    assert.match(first!.path, /^\/v1beta\/models\/gemini-2\.5-flash:generateContent$/);
    assert.equal(first!.headers["x-goog-api-key"], "test-key");
    const decl = first!.body.tools?.[0]?.functionDeclarations?.[0];
    assert.equal(decl?.name, "get_exchange_rate");
    assert.deepEqual(decl?.parametersJsonSchema, TOOLS[0]!.inputSchema);
    assert.ok(JSON.stringify(first!.body.systemInstruction).includes("currency assistant"));
    const fr = second!.body.contents.at(-1)!.parts[0]!.functionResponse as { name: string; response: { output: unknown } };
    assert.equal(fr.name, "get_exchange_rate");
    assert.deepEqual(fr.response.output, { amount: 100, base: "USD", date: "2025-01-10", rates: { EUR: 92.208 } });
  });

  it("Vertex AI: project/location path and an ADC bearer token from the metadata server", async () => {
    const model = new GeminiModel({ model: "gemini-2.5-flash", vertexai: { project: "my-project", location: "europe-west1" }, baseUrl: gemini.url });
    const before = gemini.requests.length;
    gemini.script({ parts: [{ text: "Hello from Vertex" }] });
    const r = await chatWith(model).runTurn({ userId: "u", sessionId: "v" }, "hi");
    assert.equal(r.response, "Hello from Vertex");
    const req = gemini.requests[before]!;
    assert.match(req.path, /\/projects\/my-project\/locations\/europe-west1\/publishers\/google\/models\/gemini-2\.5-flash:generateContent$/);
    assert.match(String(req.headers.authorization), /^Bearer ya29\.test-/);
    assert.ok(metadata.accessTokenRequests() >= 1);
  });

  it("sends a failed tool call back as a functionResponse error", async () => {
    const model = new GeminiModel({ model: "gemini-2.5-flash", apiKey: "k", baseUrl: gemini.url });
    const before = gemini.requests.length;
    gemini.script({ parts: [{ functionCall: { name: "get_exchange_rate", args: { currency_to: "XYZ" } } }] });
    const r = await chatWith(model).runTurn({ userId: "u", sessionId: "e" }, "XYZ please");
    assert.equal(r.response, "The tool failed: Unknown currency XYZ");
    const fr = gemini.requests[before + 1]!.body.contents.at(-1)!.parts[0]!.functionResponse as { response: { error: string } };
    assert.equal(fr.response.error, "Unknown currency XYZ");
  });

  it("retries 429 and 5xx with backoff, then succeeds", async () => {
    const model = new GeminiModel({ model: "gemini-2.5-flash", apiKey: "k", baseUrl: gemini.url, backoffMs: 5 });
    gemini.script({ status: 429 }, { status: 503 }, { parts: [{ text: "third time lucky" }] });
    const r = await chatWith(model).runTurn({ userId: "u", sessionId: "r" }, "hi");
    assert.equal(r.response, "third time lucky");
  });

  it("gives up with a clear 503 after repeated overloads, 502 on a rejected key", async () => {
    const model = new GeminiModel({ model: "gemini-2.5-flash", apiKey: "k", baseUrl: gemini.url, backoffMs: 5, attempts: 2 });
    gemini.script({ status: 503 }, { status: 503 });
    await assert.rejects(model.generate({ system: "s", contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [] }), (e: unknown) => e instanceof ModelError && e.status === 503 && /unavailable/.test(e.message));
    gemini.script({ status: 429 }, { status: 429 });
    await assert.rejects(model.generate({ system: "s", contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [] }), (e: unknown) => e instanceof ModelError && e.status === 503 && /quota/.test(e.message));
    gemini.script({ status: 403, message: "API key not valid" });
    await assert.rejects(model.generate({ system: "s", contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: [] }), (e: unknown) => e instanceof ModelError && e.status === 502 && /credentials/.test(e.message));
  });
});
