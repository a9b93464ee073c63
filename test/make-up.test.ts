// `make up` as a user runs it: start, wait until ready, `make smoke`, Ctrl-C, nothing left running.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startFrankfurter, type FakeFrankfurter } from "./support/frankfurter.js";
import { freePort, ROOT } from "./support/service.js";

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.once("exit", (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

describe("make up", () => {
  let upstream: FakeFrankfurter;
  before(async () => {
    upstream = await startFrankfurter();
  });
  after(async () => upstream?.close());

  it("starts both services, passes make smoke, and stops both on Ctrl-C", async () => {
    const [agentPort, mcpPort] = [await freePort(), await freePort()];
    // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
    const up = spawn("make", ["up", `AGENT_PORT=${agentPort}`, `MCP_PORT=${mcpPort}`], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, FRANKFURTER_URL: upstream.url, GOOGLE_API_KEY: "", GOOGLE_CLOUD_PROJECT: "", MODEL_PROVIDER: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    up.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    up.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => up.once("exit", (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`make up was not ready in time:\n${out}`)), 90_000);
        const poll = setInterval(() => {
          if (out.includes("up: ready")) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        }, 100);
        void exited.then(() => (clearInterval(poll), clearTimeout(timer), reject(new Error(`make up exited:\n${out}`))));
      });
      assert.match(out, /offline model/);
      assert.match(out, /curl -s http:\/\/127\.0\.0\.1:\d+\/chat/);
      assert.match(out, /^\[agent\] +\{/m, "agent logs are prefixed");
      assert.match(out, /^\[mcp-server\] \{/m, "mcp-server logs are prefixed");

      // Not spawnSync: the Frankfurter stand-in lives in this process and must keep answering.
      const smoke = await run("make", ["-s", "smoke", `AGENT_URL=http://127.0.0.1:${agentPort}`]);
      assert.equal(smoke.code, 0, smoke.out);
      assert.match(smoke.out, /all checks passed/);

      process.kill(-up.pid!, "SIGINT");
      await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`make up did not stop:\n${out}`)), 15_000))]);
      assert.match(out, /up: stopped/);
      for (const port of [agentPort, mcpPort]) {
        await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), `nothing listens on ${port} any more`);
      }
      // The log prefixers (sed) end when the services' output closes, a moment after.
      await new Promise((r) => setTimeout(r, 1000));
      // Zombies (stat Z) have exited already; reaping them is init's job, which this sandbox's pid 1 skips.
      const left = spawnSync("ps", ["-o", "pid=,stat=,args=", "-g", String(up.pid)], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l))
        .join("\n");
      assert.equal(left, "", `no process of the group is left:\n${left}`);
    } finally {
      try {
        process.kill(-up.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
});
