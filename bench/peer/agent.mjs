// The peer: LlmAgent + MCPToolset + InMemoryRunner against the same mcp-server and Gemini-compatible
// server (GOOGLE_GEMINI_BASE_URL is read by @google/genai, which ADK uses). Prints one JSON line
// when the toolset is connected, then answers each line of stdin as one turn.
import { createInterface } from "node:readline";
import { InMemoryRunner, LlmAgent, MCPToolset } from "@google/adk";

const toolset = new MCPToolset({ type: "StreamableHTTPConnectionParams", url: process.env.MCP_SERVER_URL });
const tools = await toolset.getTools();
const agent = new LlmAgent({
  name: "currency_agent",
  model: process.env.GOOGLE_MODEL ?? "gemini-3.8-flash",
  instruction: "You are a currency assistant. Use the tools for every exchange rate.",
  tools: [toolset],
});
const runner = new InMemoryRunner({ agent, appName: "bench" });
console.log(JSON.stringify({ ready: true, tools: tools.length, rss: process.memoryUsage().rss }));

let n = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const started = performance.now();
  const sessionId = `s${n++}`;
  await runner.sessionService.createSession({ appName: "bench", userId: "u", sessionId });
  let text = "";
  for await (const event of runner.runAsync({ userId: "u", sessionId, newMessage: { role: "user", parts: [{ text: line }] } })) {
    for (const p of event.content?.parts ?? []) if (p.text) text += p.text;
  }
  console.log(JSON.stringify({ ms: performance.now() - started, text, rss: process.memoryUsage().rss }));
}
