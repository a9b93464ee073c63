// The agent bundle as a real process: SIGTERM while turns are stuck past the drain deadline (8 s)
// ends them with 503s instead of cutting them off. Takes about 9 s.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startService, type RunningService } from "../../test/support/service.js";

describe("agent bundle: SIGTERM past the drain deadline", () => {
  let stuckGemini: Server;
  let mcp: RunningService;
  let agent: RunningService;
  let modelCalls = 0;
  before(async () => {
    // A model endpoint that takes the request and never answers.
    stuckGemini = createServer(() => void modelCalls++);
    await new Promise<void>((r) => stuckGemini.listen(0, "127.0.0.1", r));
    mcp = await startService("mcp-server", { FRANKFURTER_URL: "http://127.0.0.1:9/v1" });
    agent = await startService("agent", {
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      GOOGLE_API_KEY: "test-key",
      GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${(stuckGemini.address() as AddressInfo).port}`,
    });
  });
  after(async () => {
    await agent?.stop("SIGKILL");
    await mcp?.stop();
    stuckGemini?.closeAllConnections();
    await new Promise((r) => stuckGemini?.close(r));
  });

  it("answers the waiting /chat with 503 JSON and ends the open stream with event: error", async () => {
    const post = (path: string): Promise<Response> =>
      fetch(`${agent.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"message":"What is 100 USD in EUR?"}',
      });
    const chat = post("/chat");
    const stream = await post("/chat/stream");
    const streamText = stream.text();
    while (modelCalls < 2) await new Promise((r) => setTimeout(r, 20));
    const exited = agent.stop("SIGTERM");

    const answer = await chat;
    assert.equal(answer.status, 503);
    assert.equal(
      ((await answer.json()) as { error: { code: string } }).error.code,
      "shutting_down",
    );
    const events = await streamText;
    const error = /event: error\ndata: (.*)\n/.exec(events)?.[1];
    assert.ok(error, events);
    assert.deepEqual(
      (({ code, status }) => ({ code, status }))(
        JSON.parse(error) as { code: string; status: number },
      ),
      { code: "shutting_down", status: 503 },
    );
    assert.equal(await exited, 0);
    assert.ok(
      agent.logs().some((l) => l.message === "stopped" && l.turns_answered_503 === 2),
      agent.output(),
    );
  });
});
