// A browser MCP client (a page calling /mcp with fetch, as the Inspector's web UI does) in a real
// browser: Debian's Chromium driven by playwright-core, against the mcp-server built in process with
// OAuth (oidc-provider as authorization server) and MCP_ALLOWED_ORIGINS. One page server, reached
// under two loopback origins (localhost and 127.0.0.1 are different origins): the listed one signs
// in and lists tools; the other cannot even read the 401.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { type OAuthServer, startOAuthServer } from "../../mcp-server/test/support/oauth-server.js";
import { buildService, type TestService } from "../../mcp-server/test/support/service.js";
import { freePort } from "../support/service.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** What the page saw: each step's status and headers as a script can read them, or the error. */
interface Seen {
  challenge?: { status: number; wwwAuthenticate: string | null };
  metadataResource?: string;
  list?: { status: number; tools: string[] };
  error?: string;
}
type PageApi = { run(url: string, token: string): Promise<Seen> };

/**
 * The page's script (served as the page, so that it runs as a page's own code): the first steps of
 * a browser client's OAuth, then a call with the token. `run` resolves to what it could read.
 */
const PAGE = `<!doctype html><title>browser MCP client</title><script>
async function run(url, token) {
  const seen = {};
  const rpc = (authorization) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
  try {
    const first = await rpc();
    const wwwAuthenticate = first.headers.get("www-authenticate");
    seen.challenge = { status: first.status, wwwAuthenticate };
    const metadata = /resource_metadata="([^"]+)"/.exec(wwwAuthenticate ?? "")?.[1];
    if (metadata) seen.metadataResource = (await (await fetch(metadata)).json()).resource;
    const list = await rpc("Bearer " + token);
    const body = await list.json();
    seen.list = { status: list.status, tools: (body.result?.tools ?? []).map((t) => t.name) };
  } catch (err) {
    seen.error = String(err);
  }
  return seen;
}
</script>`;

describe("a browser MCP client on /mcp (CORS for MCP_ALLOWED_ORIGINS), in Chromium", () => {
  let as: OAuthServer;
  let service: TestService;
  let mcp: ReturnType<typeof serve>;
  let pages: Server;
  let pagePort: number;
  let mcpUrl: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
    const mcpPort = await freePort();
    mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
    pages = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    pages.listen(0, "127.0.0.1");
    await once(pages, "listening");
    pagePort = (pages.address() as AddressInfo).port;
    as = await startOAuthServer({ resources: [mcpUrl] });
    service = await buildService(
      {
        MCP_SERVER_AUTH: "oauth",
        OAUTH_ISSUER: as.issuer,
        MCP_RESOURCE_URL: mcpUrl,
        MCP_ALLOWED_ORIGINS: `http://localhost:${pagePort}`,
      },
      { fetch: globalThis.fetch },
    );
    mcp = serve({ fetch: service.app.fetch, port: mcpPort, hostname: "127.0.0.1" });
    await once(mcp, "listening");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    mcp?.close();
    await service?.close();
    pages?.close();
    await as?.stop();
  });

  const from = async (origin: string): Promise<Seen> => {
    await page.goto(`${origin}/`);
    const args = { url: mcpUrl, token: await as.token() };
    return page.evaluate(({ url, token }) => (window as unknown as PageApi).run(url, token), args);
  };

  it("lets a page on a listed origin read the 401's challenge, then list tools with its token", async () => {
    const seen = await from(`http://localhost:${pagePort}`);
    assert.equal(seen.error, undefined);
    assert.equal(seen.challenge?.status, 401);
    assert.match(seen.challenge?.wwwAuthenticate ?? "", /^Bearer resource_metadata="/);
    assert.equal(seen.metadataResource, mcpUrl);
    assert.equal(seen.list?.status, 200);
    assert.ok(seen.list?.tools.includes("get_exchange_rate"), JSON.stringify(seen.list));
  });

  it("leaves a page on another origin with a failed fetch: no answer is readable", async () => {
    const seen = await from(`http://127.0.0.1:${pagePort}`);
    assert.match(seen.error ?? "", /Failed to fetch/);
    assert.equal(seen.challenge, undefined);
    assert.equal(seen.list, undefined);
  });
});
