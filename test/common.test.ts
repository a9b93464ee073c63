// common/: log format and level from the environment, the one-line port-in-use message of both services, and the body limit.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { Hono } from "hono";
import { bodyLimit } from "../common/body-limit.js";
import { createLogger, logOptions } from "../common/log.js";
import { listen, rawRequest, type Listening } from "./support/http-probe.js";
import { bundlePath } from "./support/service.js";

describe("logOptions", () => {
  it("is readable text at INFO on a terminal, JSON at DEBUG in a pipe and always on Cloud Run", () => {
    assert.deepEqual(logOptions({}, true), { format: "text", level: "INFO" });
    assert.deepEqual(logOptions({}, false), { format: "json", level: "DEBUG" });
    assert.deepEqual(logOptions({ K_SERVICE: "agent" }, true), { format: "json", level: "DEBUG" });
  });
  it("lets LOG_FORMAT and LOG_LEVEL override, and names a bad value", () => {
    assert.deepEqual(logOptions({ LOG_FORMAT: "json", LOG_LEVEL: "warning" }, true), {
      format: "json",
      level: "WARNING",
    });
    assert.deepEqual(logOptions({ LOG_FORMAT: "text", LOG_LEVEL: "" }, false), {
      format: "text",
      level: "INFO",
    });
    assert.throws(
      () => logOptions({ LOG_FORMAT: "xml" }, true),
      /LOG_FORMAT: must be json or text, got "xml"/,
    );
    assert.throws(
      () => logOptions({ LOG_LEVEL: "verbose" }, true),
      /LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, got "verbose"/,
    );
  });
});

describe("createLogger", () => {
  it("writes one readable line per entry in text, dropping what is below the level", () => {
    const lines: string[] = [];
    const log = createLogger({ service: "agent" }, (l) => lines.push(l), {
      format: "text",
      level: "INFO",
    }).child({ session: "s 1" });
    log.log("DEBUG", "noise");
    log.log("INFO", "turn done", { ms: 12, model: "offline", tools: ["get_exchange_rate"] });
    log.log("ERROR", "two\nlines");
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {4}turn done session="s 1" ms=12 model=offline tools=\["get_exchange_rate"\]$/,
    );
    assert.match(lines[1]!, /ERROR {3}two lines/);
    assert.doesNotMatch(lines.join("\n"), /service=/, "make up prefixes the service already");
  });
  it("keeps Cloud Logging's JSON shape by default", () => {
    const lines: string[] = [];
    createLogger({ service: "mcp-server" }, (l) => lines.push(l)).log("DEBUG", "hello", { a: 1 });
    assert.deepEqual(Object.keys(JSON.parse(lines[0]!)), [
      "severity",
      "message",
      "service",
      "a",
      "time",
    ]);
  });
});

describe("a port already in use", () => {
  for (const service of ["agent", "mcp-server"] as const) {
    it(`stops the ${service} with one line naming the port and PORT`, async () => {
      const holder: Server = createServer();
      await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
      const port = (holder.address() as { port: number }).port;
      try {
        const p = spawn(process.execPath, [bundlePath(service)], {
          env: {
            PATH: process.env.PATH,
            HOST: "127.0.0.1",
            PORT: String(port),
            MODEL_PROVIDER: "offline",
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        p.stdout.on("data", (c: Buffer) => (out += c.toString()));
        p.stderr.on("data", (c: Buffer) => (out += c.toString()));
        const code = await new Promise<number | null>((r) => p.once("exit", r));
        assert.equal(code, 1, out);
        const lines = out
          .trim()
          .split("\n")
          .filter((l) => !/"severity":"(INFO|DEBUG)"/.test(l));
        assert.equal(lines.length, 1, out);
        assert.equal(
          JSON.parse(lines[0]!).message,
          `port ${port} on 127.0.0.1 is already in use: set PORT to another port (or stop what holds it)`,
        );
        assert.doesNotMatch(out, /at Server\.|node:net/, "no stack trace");
      } finally {
        holder.close();
      }
    });
  }
});

describe("bodyLimit", () => {
  const MAX = 64;
  let reached = 0;
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({ maxSize: MAX, onError: (c) => c.json({ error: "too large" }, 413) }),
    async (c) => {
      reached++;
      return c.json(await c.req.json());
    },
  );
  let server: Listening;
  before(async () => (server = await listen(app.fetch)));
  after(async () => server?.close());
  const chunked = (body: string): string =>
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
    `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;

  it("reads a body whose Content-Length is within the limit, declared or streamed", async () => {
    reached = 0;
    const small = JSON.stringify({ a: "x".repeat(MAX - 12) });
    const r = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: small,
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), JSON.parse(small));
    const raw = await rawRequest(server.port, chunked(small));
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.ok(raw.endsWith(small), raw);
    assert.equal(reached, 2);
  });

  it("refuses a body over the limit before the handler runs, by its Content-Length or as it streams in", async () => {
    reached = 0;
    const big = JSON.stringify({ a: "x".repeat(MAX) });
    const r = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    assert.equal(r.status, 413);
    assert.match(await rawRequest(server.port, chunked(big)), /^HTTP\/1\.1 413/);
    assert.equal(reached, 0);
  });
});
