// The chat page at the agent's `/`, in a real browser: Debian's Chromium driven by playwright-core,
// against the real bundles (agent with the offline model, mcp-server, the Frankfurter stand-in).
// Needs `npm run build` first and /usr/bin/chromium (`apt-get install chromium`; CHROMIUM_PATH overrides).
// Screenshots and the load timing go to .cache/browser/ (gitignored) to look at.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "../support/frankfurter.js";
import { freePort, ROOT, startService, type RunningService } from "../support/service.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(ROOT, ".cache", "browser");
const QUESTION = "What is 100 USD in EUR?";
const EXPECTED = String(expectedConversion("USD", "EUR", 100));
const XSS = "<img src=x onerror=alert(1)>";

/** GET / as curl or a script would send it: no Accept header at all (fetch always adds one). */
function getRaw(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the chat page in Chromium", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let mcpPort: number;
  let agent: RunningService;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let instructionDir: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  const startMcp = async (): Promise<RunningService> =>
    startService("mcp-server", { PORT: String(mcpPort), FRANKFURTER_URL: upstream.url });
  const lastTurn = () => page.locator("#log .turn").last();
  const storedSession = (): Promise<string | null> =>
    page.evaluate(
      () =>
        (JSON.parse(localStorage.getItem("agent-chat") ?? "{}") as { session_id?: string | null })
          .session_id ?? null,
    );

  /** Types a message as a person does and sends it with Enter; resolves when the turn has finished. */
  async function send(text: string): Promise<void> {
    const before = await page.locator("#log .turn").count();
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
    await page.locator("#log .turn").nth(before).locator(".meta").waitFor();
  }

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
    await mkdir(ARTIFACTS, { recursive: true });
    upstream = await startFrankfurter();
    mcpPort = await freePort();
    mcp = await startMcp();
    instructionDir = await mkdtemp(path.join(tmpdir(), "chat-page-instruction-"));
    const instruction = path.join(instructionDir, "instruction.md");
    await writeFile(instruction, "You are a currency assistant. Use the tools for every rate.\n");
    agent = await startService("agent", {
      MCP_SERVER_URL: `http://127.0.0.1:${mcpPort}/sse`,
      MODEL_PROVIDER: "offline",
      MCP_TOOL_TIMEOUT_MS: "10000",
      APP_NAME: "chat-page-test",
      AGENT_INSTRUCTION_FILE: instruction,
    });
    userDataDir = await mkdtemp(path.join(tmpdir(), "chat-page-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP rebound.example 127.0.0.1",
      ],
      viewport: { width: 900, height: 700 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m: ConsoleMessage) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  after(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    if (instructionDir) await rm(instructionDir, { recursive: true, force: true });
    await agent?.stop();
    await mcp?.stop();
    await upstream?.close();
  });

  it("keeps answering JSON at / to requests that do not prefer HTML (curl, scripts)", async () => {
    const variants: Array<Record<string, string>> = [
      {},
      { accept: "*/*" },
      { accept: "application/json" },
      { accept: "application/json, text/html" },
    ];
    for (const headers of variants) {
      const res = await getRaw(`${agent.url}/`, headers);
      assert.equal(res.status, 200);
      assert.match(res.type, /^application\/json/, JSON.stringify(headers));
      const info = JSON.parse(res.body) as { name: string; model: string; endpoints: string[] };
      assert.equal(info.name, "agent");
      assert.ok(info.endpoints.includes("/chat/stream"));
    }
  });

  it("serves the page to a browser with a CSP that allows only its own files", async () => {
    const res = await fetch(`${agent.url}/`, {
      headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(html, /\son\w+=/i, "no inline event handlers");
    assert.doesNotMatch(html, /https?:\/\//, "no other origin");
    const js = await fetch(`${agent.url}/page.js`);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal(js.headers.get("x-content-type-options"), "nosniff");
  });

  it("loads, shows the app's name, the model, the MCP server and the instruction, and is usable", async (t) => {
    await page.goto(agent.url);
    await page.locator("html[data-ready=true]").waitFor();
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const usable = performance.getEntriesByName("page-usable")[0]!;
      return {
        request_to_usable_ms: Math.round(usable.startTime - nav.requestStart),
        navigation_to_usable_ms: Math.round(usable.startTime),
      };
    });
    t.diagnostic(`request to usable page: ${timing.request_to_usable_ms} ms`);
    await writeFile(path.join(ARTIFACTS, "timing.json"), `${JSON.stringify(timing)}\n`);
    const info = (await (await fetch(`${agent.url}/`)).json()) as {
      model: string;
      app_name: string;
      instruction: { source: string; fingerprint: string; chars: number };
    };
    await page.locator("#model", { hasText: info.model }).waitFor();
    assert.match(
      (await page.locator("#mcp").textContent()) ?? "",
      new RegExp(`^127\\.0\\.0\\.1:${mcpPort} \\(sse\\)$`),
    );
    assert.equal(info.app_name, "chat-page-test");
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "chat-page-test");
    assert.equal(await page.title(), "chat-page-test");
    const { source, fingerprint, chars } = info.instruction;
    assert.equal(source, "instruction.md");
    assert.equal(
      await page.locator("#instruction").textContent(),
      `instruction.md · sha256\u00a0${fingerprint} · ${chars}\u00a0chars`,
    );
    assert.equal(await page.getByLabel("Message").isEnabled(), true);
    assert.equal(await page.getByRole("button", { name: "Send" }).isEnabled(), true);
  });

  it("Shift+Enter makes a new line and sends nothing", async () => {
    const input = page.getByLabel("Message");
    await input.focus();
    await page.keyboard.type("a");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("b");
    assert.equal(await input.inputValue(), "a\nb");
    assert.equal(await page.locator("#log .turn").count(), 0);
    await input.fill("");
  });

  it("works from the keyboard alone: Tab reaches each control, Enter sends, Enter opens a tool call", async () => {
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      "input",
      "the message box has focus on load",
    );
    const order: string[] = [];
    await page.getByRole("button", { name: "New conversation" }).focus();
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => document.activeElement?.id ?? ""));
    }
    assert.deepEqual(order, ["log", "input", "send"]);
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.type("How many JPY is 10 EUR?");
    await page.keyboard.press("Enter");
    const turn = page.locator("#log .turn").last();
    await turn.locator(".meta").waitFor();
    await turn.locator(".tool summary").focus();
    await page.keyboard.press("Enter");
    assert.equal(await turn.locator(".tool .result").isVisible(), true);
    await page.getByRole("button", { name: "New conversation" }).focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.locator("#log .turn").count(), 0);
  });

  it("shows the tool call before the answer, and the answer carries the stand-in's number", async () => {
    // Records, as the DOM changes, whether the tool call was on screen before any answer text.
    await page.evaluate(() => {
      const w = window as unknown as { seen: { toolFirst?: boolean; inputDisabled?: boolean } };
      w.seen = {};
      new MutationObserver(() => {
        const turn = document.querySelector("#log .turn:last-of-type");
        if (!turn || w.seen.toolFirst !== undefined) return;
        const answered = !!turn.querySelector(".answer")?.textContent;
        if (turn.querySelector(".tool")) {
          w.seen.toolFirst = !answered;
          w.seen.inputDisabled = (document.getElementById("input") as HTMLTextAreaElement).disabled;
        } else if (answered) w.seen.toolFirst = false;
      }).observe(document.getElementById("log")!, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await send(QUESTION);
    const seen = await page.evaluate(
      () => (window as unknown as { seen: { toolFirst?: boolean; inputDisabled?: boolean } }).seen,
    );
    assert.equal(seen.toolFirst, true, "the tool call appeared before the answer");
    assert.equal(seen.inputDisabled, true, "the input is disabled while the turn runs");
    const turn = lastTurn();
    assert.equal(await turn.locator(".user").textContent(), QUESTION);
    assert.equal(await turn.locator(".tool .name").textContent(), "get_exchange_rate");
    assert.match((await turn.locator(".tool .args").textContent()) ?? "", /amount: 100/);
    assert.ok(((await turn.locator(".answer").textContent()) ?? "").includes(EXPECTED));
    assert.match((await turn.locator(".meta").textContent()) ?? "", /^\d+\.\d\d s$/);
    // Screen readers hear the answer through the live region.
    await page.locator("#status[aria-live=polite]", { hasText: EXPECTED }).waitFor();
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      "input",
      "focus is back in the input",
    );
    // Compact until asked: the result opens with the summary.
    assert.equal(await turn.locator(".tool .result").isVisible(), false);
    await turn.locator(".tool summary").click();
    assert.ok(((await turn.locator(".tool .result").textContent()) ?? "").includes(EXPECTED));
    assert.equal(await page.getByLabel("Message").isEnabled(), true);
    assert.match((await storedSession()) ?? "", /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/);
  });

  it("renders at 360 px wide, light and dark, without horizontal scrolling", async () => {
    await page.screenshot({ path: path.join(ARTIFACTS, "page-900-light.png") });
    // The README's picture: small, with the tool call folded as a person first sees it.
    await page.setViewportSize({ width: 560, height: 520 });
    await lastTurn().locator(".tool summary").click();
    await page.screenshot({ path: path.join(ARTIFACTS, "readme.png") });
    await lastTurn().locator(".tool summary").click();
    await page.setViewportSize({ width: 360, height: 740 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const layout = await page.evaluate(() => {
        const over = [...document.querySelectorAll("body *")]
          .filter(
            (e) => !e.closest(".visually-hidden, noscript") && e.getBoundingClientRect().width > 0,
          )
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
        return {
          docScroll: document.documentElement.scrollWidth,
          width: window.innerWidth,
          over,
          bg: getComputedStyle(document.body).backgroundColor,
        };
      });
      assert.ok(
        layout.docScroll <= layout.width,
        `${scheme}: page is ${layout.docScroll} px wide in ${layout.width}`,
      );
      assert.deepEqual(layout.over, [], `${scheme}: elements past the right edge`);
      const dark = /rgb\((\d+)/.exec(layout.bg)!;
      assert.equal(
        Number(dark[1]) < 128,
        scheme === "dark",
        `${scheme} background is ${layout.bg}`,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, `page-360-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 900, height: 700 });
  });

  it("keeps the exchange and the session across a reload", async () => {
    const session = await storedSession();
    await page.reload();
    await page.locator("html[data-ready=true]").waitFor();
    const reload = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      return Math.round(
        performance.getEntriesByName("page-usable")[0]!.startTime - nav.requestStart,
      );
    });
    await writeFile(
      path.join(ARTIFACTS, "timing-reload.json"),
      `${JSON.stringify({ request_to_usable_ms: reload })}\n`,
    );
    const turn = page.locator("#log .turn").first();
    assert.equal(await turn.locator(".user").textContent(), QUESTION);
    assert.ok(((await turn.locator(".answer").textContent()) ?? "").includes(EXPECTED));
    assert.equal(await turn.locator(".tool .name").textContent(), "get_exchange_rate");
    const sent = page.waitForRequest((r) => r.url().endsWith("/chat/stream"));
    await send("50 USD to GBP");
    assert.equal(((await sent).postDataJSON() as { session_id?: string }).session_id, session);
    assert.equal(await storedSession(), session);
    assert.equal(await page.locator("#log .turn").count(), 2);
  });

  it('"New conversation" starts an empty one with a new session id', async () => {
    const old = await storedSession();
    await page.getByRole("button", { name: "New conversation" }).click();
    assert.equal(await page.locator("#log .turn").count(), 0);
    assert.equal(await storedSession(), null);
    const sent = page.waitForRequest((r) => r.url().endsWith("/chat/stream"));
    await send(QUESTION);
    assert.equal(((await sent).postDataJSON() as { session_id?: string }).session_id, undefined);
    const fresh = await storedSession();
    assert.ok(fresh && fresh !== old, `${fresh} vs ${old}`);
    assert.equal(await page.locator("#log .turn").count(), 1);
  });

  it("shows a message that looks like HTML as text: no dialog, no element injected", async () => {
    await send(XSS);
    assert.equal(await lastTurn().locator(".user").textContent(), XSS);
    assert.equal(await page.locator("#log img").count(), 0);
    assert.equal(await page.evaluate(() => document.querySelectorAll("img").length), 0);
    assert.deepEqual(dialogs, []);
  });

  it("shows the 503 when the mcp-server is down, and answers again once it is back", async () => {
    await mcp.stop("SIGKILL");
    await send(QUESTION);
    // The agent still holds the tool list from before, so the first turn reaches the tool call, which
    // fails inside the turn (shown as a failed call); the next turn cannot list tools and gets the 503.
    if ((await lastTurn().locator(".error").count()) === 0) {
      assert.equal(await lastTurn().locator(".tool .state").textContent(), "error");
      assert.match(
        (await lastTurn().locator(".tool .result").textContent()) ?? "",
        /cannot be reached/,
      );
      await send(QUESTION);
    }
    const error = (await lastTurn().locator(".error").textContent()) ?? "";
    assert.match(error, /^Error 503: The MCP server cannot be reached: try again in a moment/);
    assert.equal(await page.getByLabel("Message").isEnabled(), true);
    mcp = await startMcp();
    await send(QUESTION);
    assert.equal(await lastTurn().locator(".error").count(), 0);
    assert.ok(((await lastTurn().locator(".answer").textContent()) ?? "").includes(EXPECTED));
    await page.screenshot({ path: path.join(ARTIFACTS, "page-errors.png"), fullPage: true });
  });

  it("Stop aborts a running turn and leaves the page usable", async () => {
    upstream.setMode("slow");
    try {
      // A pair no other test asked for: the mcp-server caches a latest rate for every amount.
      await page.getByLabel("Message").fill("What is 7 CHF in SEK?");
      await page.getByLabel("Message").press("Enter");
      await lastTurn().locator(".tool").waitFor();
      assert.equal(await page.getByLabel("Message").isDisabled(), true);
      await page.getByRole("button", { name: "Stop" }).click();
      await lastTurn().locator(".meta", { hasText: "stopped" }).waitFor();
      assert.equal(await page.getByRole("button", { name: "Stop" }).isHidden(), true);
      assert.equal(await page.getByLabel("Message").isEnabled(), true);
    } finally {
      upstream.setMode("ok");
    }
    await page.getByRole("button", { name: "New conversation" }).click();
    await send(QUESTION);
    assert.ok(((await lastTurn().locator(".answer").textContent()) ?? "").includes(EXPECTED));
  });

  it("shows the server's 400 and 413 messages", async () => {
    // 400: a session id the agent refuses (only a tampered store holds one).
    await page.evaluate(() =>
      localStorage.setItem(
        "agent-chat",
        JSON.stringify({ session_id: "not a valid id", turns: [] }),
      ),
    );
    await page.reload();
    await page.locator("html[data-ready=true]").waitFor();
    await send(QUESTION);
    assert.match(
      (await lastTurn().locator(".error").textContent()) ?? "",
      /^Error 400: session_id must be/,
    );
    // 413: the page cannot make a body that large (the input is capped), so replay the agent's real answer to one.
    const real = await fetch(`${agent.url}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "x".repeat(70_000) }),
    });
    assert.equal(real.status, 413);
    const body = await real.text();
    await page.route(
      "**/chat/stream",
      (r) => r.fulfill({ status: 413, contentType: "application/json", body }),
      { times: 1 },
    );
    await send(QUESTION);
    const message = (JSON.parse(body) as { error: { message: string } }).error.message;
    assert.equal(await lastTurn().locator(".error").textContent(), `Error 413: ${message}`);
    await page.getByRole("button", { name: "New conversation" }).click();
  });

  it("matches parallel tool results by id, joins text deltas, and stores the session id the agent returns", async () => {
    const sse = (event: string, data: unknown): string =>
      `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    const stream =
      sse("session", { session_id: "issued-by-agent", user_id: "anonymous" }) +
      sse("tool_call", { id: "a", name: "get_exchange_rate", arguments: { currency_to: "GBP" } }) +
      sse("tool_call", { id: "b", name: "get_exchange_rate", arguments: { currency_to: "JPY" } }) +
      sse("tool_result", {
        id: "b",
        name: "get_exchange_rate",
        is_error: false,
        result: "JPY result",
      }) +
      sse("tool_result", {
        id: "a",
        name: "get_exchange_rate",
        is_error: true,
        result: "GBP failed",
      }) +
      sse("text", { text: "Two " }) +
      sse("text", { text: "answers." }) +
      sse("done", {
        response: "Two answers.",
        session_id: "issued-by-agent",
        user_id: "anonymous",
        tool_calls: [],
      });
    // A session id from before (an agent restart, an expired session) that the agent replaces with its own.
    await page.evaluate(() =>
      localStorage.setItem("agent-chat", JSON.stringify({ session_id: "from-before", turns: [] })),
    );
    await page.reload();
    await page.locator("html[data-ready=true]").waitFor();
    await page.route(
      "**/chat/stream",
      (r) => r.fulfill({ status: 200, contentType: "text/event-stream", body: stream }),
      { times: 1 },
    );
    await send("two rates please");
    assert.match((await lastTurn().locator(".note").textContent()) ?? "", /started a new one/);
    const tools = lastTurn().locator(".tool");
    assert.match((await tools.nth(0).textContent()) ?? "", /GBP.*error.*GBP failed/s);
    assert.match((await tools.nth(1).textContent()) ?? "", /JPY.*done.*JPY result/s);
    assert.equal(await lastTurn().locator(".answer").textContent(), "Two answers.");
    assert.equal(await storedSession(), "issued-by-agent");
  });

  it("says so when the stream breaks before the answer, and stays usable", async () => {
    const broken = `event: session\ndata: ${JSON.stringify({ session_id: "issued-by-agent", user_id: "anonymous" })}\n\nevent: text\ndata: {"text":"Half an"}\n\n`;
    await page.route(
      "**/chat/stream",
      (r) => r.fulfill({ status: 200, contentType: "text/event-stream", body: broken }),
      { times: 1 },
    );
    await send(QUESTION);
    assert.match(
      (await lastTurn().locator(".error").textContent()) ?? "",
      /closed before the answer was complete/,
    );
    await page.getByRole("button", { name: "New conversation" }).click();
    await send(QUESTION);
    assert.ok(((await lastTurn().locator(".answer").textContent()) ?? "").includes(EXPECTED));
  });

  it("keeps what it stores within 50 turns and 200,000 characters", async () => {
    const session = await storedSession();
    await page.evaluate((session) => {
      const big = "x".repeat(10_000);
      const turns = Array.from({ length: 80 }, (_, i) => ({
        user: `question ${i}`,
        tools: [{ name: "get_exchange_rate", args: { amount: i }, result: big, is_error: false }],
        answer: `answer ${i}`,
        ms: 10,
      }));
      localStorage.setItem("agent-chat", JSON.stringify({ session_id: session, turns }));
    }, session);
    await page.reload();
    await page.locator("html[data-ready=true]").waitFor();
    await send(QUESTION);
    const stored = await page.evaluate(() => localStorage.getItem("agent-chat") ?? "");
    const state = JSON.parse(stored) as {
      session_id: string;
      turns: Array<{ user: string; tools: Array<{ result: string }> }>;
    };
    assert.ok(stored.length <= 200_000, `${stored.length} characters stored`);
    assert.ok(
      state.turns.length <= 50 && state.turns.length > 1,
      `${state.turns.length} turns stored`,
    );
    assert.equal(state.turns.at(-1)!.user, QUESTION, "the newest turn is kept");
    assert.ok(
      state.turns.every((t) => t.tools.every((c) => c.result.length <= 4001)),
      "long tool results are cut",
    );
    await page.getByRole("button", { name: "New conversation" }).click();
  });

  it("gives a rebound DNS name nothing: 403 for the page and for a chat from it", async () => {
    // Chromium resolves rebound.example to the agent's loopback address, as DNS rebinding makes it:
    // to the browser the attacker's page and the agent are then one origin.
    const res = await page.goto(`http://rebound.example:${agent.port}/`);
    assert.equal(res?.status(), 403);
    const chat = await page.evaluate(async () => {
      const r = await fetch("/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
      });
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    });
    assert.equal(chat.status, 403);
    assert.equal(chat.body.error.code, "host_not_allowed");
    await page.goto(agent.url);
    await page.locator("html[data-ready=true]").waitFor();
  });

  it("ran without script errors or CSP violations", () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
