// The MCP Inspector CLI (npm @modelcontextprotocol/inspector 2.12, needs Node >= 22.19: run with the
// Node 22 from scripts/tools.sh) against the bundle, as a new user would try it: /mcp in the modern
// (2026-07-28) and legacy (2025) eras, and /sse.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "../../test/support/frankfurter.js";
import { freePort, ROOT, startService, type RunningService } from "../../test/support/service.js";
import { startOAuthServer, type OAuthServer } from "./support/oauth-server.js";
import { TOOLS } from "../src/tools/index.js";

const node22 = execFileSync(`${ROOT}/scripts/tools.sh`, ["node22"], { encoding: "utf8" }).trim();
const inspectorBin = path.join(
  ROOT,
  "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);

describe("MCP Inspector CLI against the bundle", { timeout: 180_000 }, () => {
  let upstream: FakeFrankfurter;
  let server: RunningService;
  // The Inspector keeps a catalog under $HOME: give it a throwaway one.
  const home = mkdtempSync(path.join(os.tmpdir(), "inspector-home-"));
  before(async () => {
    upstream = await startFrankfurter();
    server = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
  });
  after(async () => {
    await server?.stop();
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  async function inspect(
    url: string,
    era: "modern" | "legacy",
    args: string[],
    headers: string[] = [],
  ): Promise<{ result: Record<string, any> }> {
    const header = headers.flatMap((h) => ["--header", h]);
    const { stdout } = await promisify(execFile)(
      node22,
      [
        inspectorBin,
        "--cli",
        url,
        "--protocol-era",
        era,
        "--format",
        "json",
        "-q",
        ...header,
        ...args,
      ],
      { env: { PATH: process.env.PATH, HOME: home }, timeout: 60_000 },
    );
    return JSON.parse(stdout) as { result: Record<string, any> };
  }

  for (const [route, era] of [
    ["/mcp", "modern"],
    ["/mcp", "legacy"],
    ["/sse", "legacy"],
  ] as const) {
    it(`lists and calls tools over ${route} in the ${era} era`, async () => {
      const url = `${server.url}${route}`;
      const list = await inspect(url, era, ["--method", "tools/list"]);
      const tools = list.result.tools as Array<{
        name: string;
        inputSchema: { properties: Record<string, { default?: unknown }> };
      }>;
      assert.deepEqual(
        tools.map((t) => t.name),
        TOOLS.map((t) => t.name),
      );
      assert.equal(
        tools.find((t) => t.name === "get_exchange_rate")!.inputSchema.properties.currency_from
          ?.default,
        "USD",
      );

      const call = await inspect(url, era, [
        "--method",
        "tools/call",
        "--tool-name",
        "get_exchange_rate",
        "--tool-arg",
        "amount=100",
        "--tool-arg",
        "currency_to=JPY",
      ]);
      assert.deepEqual(call.result.structuredContent.rates, {
        JPY: expectedConversion("USD", "JPY", 100),
      });
      // Only 2026-07-28 results carry the server's identity in _meta: proof of the era actually spoken.
      const serverInfo = call.result._meta?.["io.modelcontextprotocol/serverInfo"];
      if (era === "modern") assert.equal(serverInfo?.name, "mcp-server");
      else assert.equal(serverInfo, undefined);
    });
  }

  it("lists tools with an OAuth access token in a bearer header, and is refused without one", async () => {
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    const as: OAuthServer = await startOAuthServer({ resources: [resource] });
    const guarded = await startService("mcp-server", {
      PORT: String(port),
      FRANKFURTER_URL: upstream.url,
      MCP_SERVER_AUTH: "oauth",
      OAUTH_ISSUER: as.issuer,
      MCP_RESOURCE_URL: resource,
    });
    try {
      const bearer = `Authorization: Bearer ${await as.token()}`;
      const list = await inspect(resource, "modern", ["--method", "tools/list"], [bearer]);
      assert.ok((list.result.tools as unknown[]).length > 0);
      await assert.rejects(inspect(resource, "modern", ["--method", "tools/list"]));
    } finally {
      await guarded.stop();
      await as.stop();
    }
  });
});
