// The agent bundle under Deno 2 (from npm), chatting with the offline model through the mcp-server bundle.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "../../test/support/frankfurter.js";
import {
  startService,
  startServiceUnderDeno,
  type RunningService,
} from "../../test/support/service.js";

describe("agent bundle under Deno", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let agent: RunningService;
  before(async () => {
    upstream = await startFrankfurter();
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    agent = await startServiceUnderDeno("agent", {
      MCP_SERVER_URL: `${mcp.url}/sse`,
      MODEL_PROVIDER: "offline",
    });
  });
  after(async () => {
    await agent?.stop();
    await mcp?.stop();
    await upstream?.close();
  });

  it("completes a chat", async () => {
    const res = await fetch(`${agent.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { response: string };
    assert.ok(
      body.response.includes(`100 USD = ${expectedConversion("USD", "EUR", 100)} EUR`),
      body.response,
    );
  });

  it("exits on SIGTERM", async () => {
    assert.equal(await agent.stop("SIGTERM"), 0);
  });
});
