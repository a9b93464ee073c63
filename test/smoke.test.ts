// `make smoke` proves its claims: it fails against a stack whose Frankfurter answers 503 and passes
// against a working one; an answer without the tool's amount, or a stream without a tool result, fails;
// against an https (deployed, private) agent it sends an ID token from gcloud by itself.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { expectedConversion, type FakeFrankfurter } from "./support/frankfurter.js";
import { optionalTool } from "./support/optional-tool.js";
import {
  ROOT,
  runCommand,
  startStack,
  type RunningService,
  type Stack,
} from "./support/service.js";

/** Runs `make -s smoke` without blocking this process: the stand-ins live here and must keep answering. */
function smoke(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; out: string }> {
  return runCommand("make", ["-s", "smoke"], { env, timeoutMs: 120_000 });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const close = (server: Server | undefined): Promise<void> =>
  new Promise((r) => {
    if (!server) return r();
    server.closeAllConnections();
    server.close(() => r());
  });

describe("make smoke", () => {
  let stack: Stack;
  let upstream: FakeFrankfurter;
  let agent: RunningService;
  before(async () => {
    stack = await startStack();
    ({ upstream, agent } = stack);
  });
  after(() => stack?.stop());

  it("fails against a stack whose Frankfurter answers 503, naming each claim that does not hold", async () => {
    upstream.setMode("5xx");
    try {
      const r = await smoke({ AGENT_URL: agent.url });
      assert.equal(r.code, 2, r.out); // make's status for a failed recipe
      assert.match(
        r.out,
        /^FAIL +POST \/chat: the get_exchange_rate call succeeded: the tool call failed: .*503/m,
      );
      assert.match(r.out, /^FAIL +POST \/chat: the answer holds the tool's amount/m);
      assert.match(
        r.out,
        /^FAIL +POST \/chat\/stream carries a successful tool result, then done: the tool call failed/m,
      );
      assert.match(r.out, /^ok +GET \/health/m);
      assert.match(r.out, /smoke: \d+ check\(s\) failed/);
    } finally {
      upstream.setMode("ok");
    }
  });

  it("passes against a working stack, quoting the amounts it found", async () => {
    const r = await smoke({ AGENT_URL: agent.url });
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      new RegExp(
        `^ok +POST /chat: the answer holds the tool's amount \\(${expectedConversion("USD", "EUR", 100)} EUR\\)`,
        "m",
      ),
    );
    assert.match(r.out, /^ok +POST \/chat continues the conversation on the returned session_id/m);
    assert.match(
      r.out,
      new RegExp(
        `^ok +POST /chat/stream carries a successful tool result, then done \\(${expectedConversion("EUR", "GBP", 50)} GBP\\)`,
        "m",
      ),
    );
    assert.match(r.out, /all checks passed/);
  });

  describe("against an agent whose answers do not hold what they claim", () => {
    // Our own agent's answer shapes, with the claims broken: a tool that succeeded but an answer
    // that only has other digits in it, and a stream that ends with done and no tool result.
    let fake: Server;
    let url = "";
    before(async () => {
      const toolCall = {
        name: "get_exchange_rate",
        arguments: { amount: 100 },
        is_error: false,
        result: "100 USD = 92.208 EUR (ECB reference rate, 2026-01-09)",
      };
      fake = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
        const json = (status: number, body: unknown): void =>
          void res
            .writeHead(status, { "content-type": "application/json" })
            .end(JSON.stringify(body));
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          if (req.url === "/health") return json(200, { status: "ok" });
          if (req.url === "/") return json(200, { model: "fake" });
          if (req.url === "/ready") return json(200, { tools: ["get_exchange_rate"] });
          if (req.url === "/chat") {
            if (!body.startsWith('{"'))
              return json(400, { error: { code: "invalid_json", message: "bad" } });
            const sent = JSON.parse(body) as { session_id?: string };
            return json(200, {
              response: "The service answered 503 for 100 USD.",
              session_id: sent.session_id ?? "s-1",
              user_id: "smoke",
              tool_calls: [toolCall],
            });
          }
          if (req.url === "/chat/stream") {
            res.writeHead(200, { "content-type": "text/event-stream" });
            return void res.end(
              `event: session\ndata: {"session_id":"s-2"}\n\nevent: done\ndata: ${JSON.stringify({ response: "50 EUR = 42.06 GBP", session_id: "s-2", tool_calls: [] })}\n\n`,
            );
          }
          json(404, {});
        });
      });
      url = `http://${await listen(fake)}`;
    });
    after(() => close(fake));

    it("fails an answer without the tool's amount and a stream without a tool result", async () => {
      const r = await smoke({ AGENT_URL: url });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /^ok +POST \/chat: the get_exchange_rate call succeeded/m);
      assert.match(
        r.out,
        /^FAIL +POST \/chat: the answer holds the tool's amount: the answer does not hold the tool amount 92\.208 EUR/m,
      );
      assert.match(
        r.out,
        /^FAIL +POST \/chat\/stream carries a successful tool result, then done: no get_exchange_rate tool_result before done; got: session, done/m,
      );
    });
  });

  describe("against an https agent (deployed, private)", {
    skip: optionalTool("openssl", "apt-get install openssl"),
  }, () => {
    // Cloud Run's front end in miniature: TLS, and 403 unless the request carries the ID token that
    // gcloud's stand-in prints; then the request goes on to the local agent.
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRldkBleGFtcGxlLmNvbSJ9.c21va2U";
    let front: Server;
    let dir = "";
    let url = "";
    let gcloud: Record<string, string>;
    const seen: string[] = [];
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "smoke-https-"));
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      front = createHttpsServer(
        {
          key: readFileSync(path.join(dir, "key.pem")),
          cert: readFileSync(path.join(dir, "cert.pem")),
        },
        (req, res) => {
          const chunks: Buffer[] = [];
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", async () => {
            seen.push(req.headers.authorization ?? "");
            if (req.headers.authorization !== `Bearer ${token}`) {
              res
                .writeHead(403, { "content-type": "text/html" })
                .end("<h1>Error: Forbidden</h1>Your client does not have permission to get URL");
              return;
            }
            const upstream = await fetch(agent.url + req.url, {
              method: req.method,
              headers: { "content-type": req.headers["content-type"] ?? "application/json" },
              body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
            });
            res.writeHead(upstream.status, {
              "content-type": upstream.headers.get("content-type") ?? "application/json",
            });
            res.end(Buffer.from(await upstream.arrayBuffer()));
          });
        },
      );
      url = `https://${await listen(front)}`;
      writeFileSync(path.join(dir, "state"), "");
      gcloud = {
        PATH: `${path.join(ROOT, "test/support/bin")}:${process.env.PATH}`,
        GCLOUD_LOG: path.join(dir, "gcloud.log"),
        GCLOUD_STATE: path.join(dir, "state"),
        GCLOUD_ID_TOKEN: token,
        CURL_CA_BUNDLE: path.join(dir, "cert.pem"),
      };
    });
    after(async () => {
      await close(front);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("takes an ID token from gcloud by itself when ID_TOKEN is unset, and passes", async () => {
      const r = await smoke({ ...gcloud, AGENT_URL: url, ID_TOKEN: undefined });
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /sending the ID token of gcloud's active account/);
      assert.match(readFileSync(gcloud.GCLOUD_LOG!, "utf8"), /^gcloud auth print-identity-token$/m);
      assert.ok(
        seen.length > 0 && seen.every((h) => h === `Bearer ${token}`),
        "every request carried the token",
      );
      assert.ok(!r.out.includes(token), "the token is never printed");
    });

    it("says how to log in when gcloud has no active account, and checks nothing", async () => {
      const before = seen.length;
      const r = await smoke({
        ...gcloud,
        AGENT_URL: url,
        ID_TOKEN: undefined,
        GCLOUD_LOGGED_OUT: "1",
      });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /could not get an ID token from gcloud \(run: gcloud auth login\)/);
      assert.equal(seen.length, before, "no request was sent");
    });

    it("sends no token when ID_TOKEN is set empty (a public agent), and the private one refuses", async () => {
      const r = await smoke({ ...gcloud, AGENT_URL: url, ID_TOKEN: "" });
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, /^FAIL +GET \/health: wanted HTTP 200 .*got 403/m);
    });
  });
});
