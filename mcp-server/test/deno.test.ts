// The same bundle under Deno 2 (from npm): web-standard transports, so both must work there too.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "../../test/support/frankfurter.js";
import { startServiceUnderDeno, type RunningService } from "../../test/support/service.js";

describe("mcp-server bundle under Deno", () => {
  let upstream: FakeFrankfurter;
  let server: RunningService;
  before(async () => {
    upstream = await startFrankfurter();
    server = await startServiceUnderDeno("mcp-server", { FRANKFURTER_URL: upstream.url });
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  for (const kind of ["mcp", "sse"] as const) {
    it(`calls get_exchange_rate over ${kind}`, async () => {
      const client = new Client({ name: "deno-test", version: "1.0.0" });
      const url = new URL(`/${kind}`, server.url);
      await client.connect(
        kind === "sse" ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url),
      );
      try {
        const r = (await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_to: "CAD", amount: 3 },
        })) as CallToolResult;
        assert.deepEqual((r.structuredContent as { rates: object }).rates, {
          CAD: expectedConversion("USD", "CAD", 3),
        });
      } finally {
        await client.close();
      }
    });
  }

  it("exits on SIGTERM", async () => {
    assert.equal(await server.stop("SIGTERM"), 0);
  });
});
