// common/: log format and level from the environment, and the one-line port-in-use message of both services.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { createLogger, logOptions } from "../common/log.js";
import { bundlePath } from "./support/service.js";

describe("logOptions", () => {
  it("is readable text at INFO on a terminal, JSON at DEBUG in a pipe and always on Cloud Run", () => {
    assert.deepEqual(logOptions({}, true), { format: "text", level: "INFO" });
    assert.deepEqual(logOptions({}, false), { format: "json", level: "DEBUG" });
    assert.deepEqual(logOptions({ K_SERVICE: "agent" }, true), { format: "json", level: "DEBUG" });
  });
  it("lets LOG_FORMAT and LOG_LEVEL override, and names a bad value", () => {
    assert.deepEqual(logOptions({ LOG_FORMAT: "json", LOG_LEVEL: "warning" }, true), { format: "json", level: "WARNING" });
    assert.deepEqual(logOptions({ LOG_FORMAT: "text", LOG_LEVEL: "" }, false), { format: "text", level: "INFO" });
    assert.throws(() => logOptions({ LOG_FORMAT: "xml" }, true), /LOG_FORMAT: must be json or text, got "xml"/);
    assert.throws(() => logOptions({ LOG_LEVEL: "verbose" }, true), /LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, got "verbose"/);
  });
});

describe("createLogger", () => {
  it("writes one readable line per entry in text, dropping what is below the level", () => {
    const lines: string[] = [];
    const log = createLogger({ service: "agent" }, (l) => lines.push(l), { format: "text", level: "INFO" }).child({ session: "s 1" });
    log.log("DEBUG", "noise");
    log.log("INFO", "turn done", { ms: 12, model: "offline", tools: ["get_exchange_rate"] });
    log.log("ERROR", "two\nlines");
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {4}turn done session="s 1" ms=12 model=offline tools=\["get_exchange_rate"\]$/);
    assert.match(lines[1]!, /ERROR {3}two lines/);
    assert.doesNotMatch(lines.join("\n"), /service=/, "make up prefixes the service already");
  });
  it("keeps Cloud Logging's JSON shape by default", () => {
    const lines: string[] = [];
    createLogger({ service: "mcp-server" }, (l) => lines.push(l)).log("DEBUG", "hello", { a: 1 });
    assert.deepEqual(Object.keys(JSON.parse(lines[0]!)), ["severity", "message", "service", "a", "time"]);
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
          env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(port), MODEL_PROVIDER: "offline" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        p.stdout.on("data", (c: Buffer) => (out += c.toString()));
        p.stderr.on("data", (c: Buffer) => (out += c.toString()));
        const code = await new Promise<number | null>((r) => p.once("exit", r));
        assert.equal(code, 1, out);
        const lines = out.trim().split("\n").filter((l) => !/"severity":"(INFO|DEBUG)"/.test(l));
        assert.equal(lines.length, 1, out);
        assert.equal(JSON.parse(lines[0]!).message, `port ${port} on 127.0.0.1 is already in use: set PORT to another port (or stop what holds it)`);
        assert.doesNotMatch(out, /at Server\.|node:net/, "no stack trace");
      } finally {
        holder.close();
      }
    });
  }
});
