// The agent bundle under Deno 2 (from npm), chatting with the offline model through the mcp-server bundle.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { expectedConversion } from "../../test/support/frankfurter.js";
import { startStack, type Stack } from "../../test/support/service.js";

describe("agent bundle under Deno", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ transport: "sse", deno: true });
  });
  after(() => stack?.stop());

  it("completes a chat", async () => {
    const res = await fetch(`${stack.agent.url}/chat`, {
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
    assert.equal(await stack.agent.stop("SIGTERM"), 0);
  });
});
