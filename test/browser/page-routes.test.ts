// The page's routes without a browser: which requests get the page, which keep the JSON, and the
// headers each file is sent with. The page files are read from disk here (Node cannot import them
// `with { type: "text" }`; the bundle inlines them), and passed to createAgent.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { prefersHtml, type PageAssets } from "../../agent/src/page/serve.js";
import { DEFAULT_INSTRUCTION } from "../../agent/src/config.js";
import { buildAgent } from "../support/agent.js";
import { ROOT } from "../support/service.js";

const dir = path.join(ROOT, "agent/src/page");
const read = (f: string): Promise<string> => readFile(path.join(dir, f), "utf8");

async function app(withPage = true) {
  const page: PageAssets = {
    html: await read("index.html"),
    css: await read("page.css"),
    js: await read("page.js"),
    favicon: await read("favicon.svg"),
  };
  return (await buildAgent({ page: withPage ? page : null })).app;
}

const BROWSER =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

describe("prefersHtml", () => {
  for (const [accept, html] of [
    [undefined, false],
    ["", false],
    ["*/*", false],
    ["application/json", false],
    ["application/json, text/html", false],
    ["text/html;q=0.5, application/json", false],
    ["text/html;q=0, */*", false],
    [BROWSER, true],
    ["text/html", true],
    ["TEXT/HTML; charset=utf-8", true],
    ["application/json;q=0.5, text/html", true],
    ["text/*, application/json;q=0.9", true],
  ] as const) {
    it(`${JSON.stringify(accept)} → ${html ? "page" : "JSON"}`, () =>
      assert.equal(prefersHtml(accept), html));
  }
});

describe("GET / and the page's files", () => {
  it("sends the page to a browser, with its security headers and versioned asset URLs", async () => {
    const res = await (await app()).request("/", { headers: { accept: BROWSER } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.match(
      res.headers.get("content-security-policy") ?? "",
      /^default-src 'none'; script-src 'self';/,
    );
    assert.equal(res.headers.get("vary"), "Accept");
    const html = await res.text();
    const js = /src="\/page\.js\?v=([0-9a-z]+)"/.exec(html);
    const css = /href="\/page\.css\?v=([0-9a-z]+)"/.exec(html);
    assert.ok(js && css, "the page names its script and style sheet with a version");
    const cached = await (await app()).request(`/page.js?v=${js[1]}`);
    assert.match(cached.headers.get("cache-control") ?? "", /immutable/);
    const stale = await (await app()).request("/page.js?v=old");
    assert.equal(stale.headers.get("cache-control"), "no-cache");
    assert.equal(await stale.text(), await read("page.js"));
    for (const [file, type] of [
      ["/page.css", "text/css; charset=utf-8"],
      ["/favicon.svg", "image/svg+xml"],
    ]) {
      const r = await (await app()).request(file!);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), type);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    }
  });

  it("keeps today's JSON for every other request, and without the page files for browsers too", async () => {
    for (const accept of [undefined, "*/*", "application/json"]) {
      const res = await (await app()).request("/", accept ? { headers: { accept } } : {});
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(await res.json(), {
        name: "agent",
        version: "dev",
        app_name: "currency-agent",
        instruction: {
          source: "default",
          fingerprint: createHash("sha256").update(DEFAULT_INSTRUCTION).digest("hex").slice(0, 8),
          chars: DEFAULT_INSTRUCTION.length,
        },
        model: "offline",
        mcp_server_url: "http://127.0.0.1:8081",
        mcp_protocol_version: null,
        transport: "streamable-http",
        mcp_auth: "none",
        session_store: "memory",
        endpoints: ["/chat", "/chat/stream", "/health", "/ready"],
      });
    }
    const none = await app(false);
    assert.match(
      (await none.request("/", { headers: { accept: BROWSER } })).headers.get("content-type") ?? "",
      /^application\/json/,
    );
    assert.equal((await none.request("/page.js")).status, 404);
  });
});
