// `make up` as a user runs it: start, wait until ready, `make smoke`, Ctrl-C, nothing left running.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startFrankfurter, type FakeFrankfurter } from "./support/frankfurter.js";
import { optionalTool } from "./support/optional-tool.js";
import {
  bundlePath,
  freePort,
  ROOT,
  runCommand,
  startService,
  type RunningService,
} from "./support/service.js";

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return runCommand(cmd, args);
}

/** Collects a `make up`'s output; `ready` settles once it says "up: ready" (or it exits first). */
function watch(up: ChildProcess): {
  exited: Promise<number | null>;
  ready: Promise<void>;
  output: () => string;
  /** Ctrl-C to its process group, then SIGKILL if it has not exited within 15 s. */
  stop: () => Promise<void>;
} {
  let out = "";
  up.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  up.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => up.once("exit", (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const clear = (): void => {
      clearInterval(poll);
      clearTimeout(timer);
    };
    const timer = setTimeout(
      () => reject(new Error(`make up was not ready in time:\n${out}`)),
      90_000,
    );
    const poll = setInterval(() => {
      if (!out.includes("up: ready")) return;
      clear();
      resolve();
    }, 100);
    void exited.then(() => {
      clear();
      reject(new Error(`make up exited:\n${out}`));
    });
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-up.pid!, name);
    } catch {
      // already gone
    }
  };
  const stop = async (): Promise<void> => {
    signal("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    signal("SIGKILL");
  };
  return { exited, ready, output: () => out, stop };
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
      env: {
        ...process.env,
        FRANKFURTER_URL: upstream.url,
        GOOGLE_API_KEY: "",
        GOOGLE_CLOUD_PROJECT: "",
        MODEL_PROVIDER: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const { exited, ready, output } = watch(up);
    try {
      await ready;
      assert.match(output(), /offline model/);
      assert.match(output(), /curl -s http:\/\/127\.0\.0\.1:\d+\/chat/);
      // One transport default everywhere: the agent talks Streamable HTTP to the local /mcp.
      assert.match(
        output(),
        new RegExp(
          `mcp-server +http://127\\.0\\.0\\.1:${mcpPort} +\\(the agent uses /mcp, Streamable HTTP`,
        ),
        output(),
      );
      assert.match(output(), /Ctrl-C stops both\./);
      assert.match(output(), /^\[agent\] +\{/m, "agent logs are prefixed");
      assert.match(output(), /^\[mcp-server\] \{/m, "mcp-server logs are prefixed");

      // Not spawnSync: the Frankfurter stand-in lives in this process and must keep answering.
      const smoke = await run("make", ["-s", "smoke", `AGENT_URL=http://127.0.0.1:${agentPort}`]);
      assert.equal(smoke.code, 0, smoke.out);
      assert.match(smoke.out, /all checks passed/);

      process.kill(-up.pid!, "SIGINT");
      await Promise.race([
        exited,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`make up did not stop:\n${output()}`)), 15_000),
        ),
      ]);
      assert.match(output(), /up: stopped/);
      for (const port of [agentPort, mcpPort]) {
        await assert.rejects(
          fetch(`http://127.0.0.1:${port}/health`),
          `nothing listens on ${port} any more`,
        );
      }
      // The log prefixers (sed) end when the services' output closes, a moment after.
      await new Promise((r) => setTimeout(r, 1000));
      // Zombies (stat Z) have exited already; reaping them is init's job, which this sandbox's pid 1 skips.
      const left = spawnSync("ps", ["-o", "pid=,stat=,args=", "-g", String(up.pid)], {
        encoding: "utf8",
      })
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

describe("make up on a terminal", {
  skip: optionalTool("script", "apt-get install util-linux (script gives make up a terminal)"),
}, () => {
  let upstream: FakeFrankfurter;
  before(async () => {
    upstream = await startFrankfurter();
  });
  after(async () => upstream?.close());

  it("shows readable one-line logs at INFO, not JSON", async () => {
    const [agentPort, mcpPort] = [await freePort(), await freePort()];
    // script(1) runs make up on a pseudo-terminal, as a person at a terminal would.
    const up = spawn(
      "script",
      ["-qfec", `make up AGENT_PORT=${agentPort} MCP_PORT=${mcpPort}`, "/dev/null"],
      {
        cwd: ROOT,
        detached: true,
        env: {
          ...process.env,
          FRANKFURTER_URL: upstream.url,
          GOOGLE_API_KEY: "",
          GOOGLE_CLOUD_PROJECT: "",
          MODEL_PROVIDER: "",
          LOG_FORMAT: "",
          LOG_LEVEL: "",
        },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const { ready, output, stop } = watch(up);
    try {
      await ready;
      // A turn makes the services log; at INFO the per-request DEBUG lines stay out.
      await fetch(`http://127.0.0.1:${agentPort}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"message":"What is 100 USD in EUR?"}',
      });
      await new Promise((r) => setTimeout(r, 500));
      const lines = output()
        .split(/\r?\n/)
        .filter((l) => /^\[(agent|mcp-server)\]/.test(l));
      assert.ok(
        lines.some((l) =>
          /^\[agent\] +\d\d:\d\d:\d\d\.\d{3} INFO +agent \S+ listening on http:\/\/127\.0\.0\.1:\d+ port=\d+/.test(
            l,
          ),
        ),
        output(),
      );
      assert.ok(
        lines.some((l) =>
          /^\[mcp-server\] \d\d:\d\d:\d\d\.\d{3} INFO +mcp-server \S+ listening/.test(l),
        ),
        output(),
      );
      assert.equal(
        lines.filter((l) => /^\[\S+\] +\{/.test(l)).length,
        0,
        `no JSON lines:\n${output()}`,
      );
      assert.equal(
        lines.filter((l) => / DEBUG /.test(l)).length,
        0,
        `no DEBUG lines:\n${output()}`,
      );
    } finally {
      await stop();
    }
  });
});

describe("make up with MCP_SERVER_URL", () => {
  it("points the agent there, says so in the banner, and starts no local mcp-server", async () => {
    const upstream = await startFrankfurter();
    const elsewhere = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    const [agentPort, mcpPort] = [await freePort(), await freePort()];
    const url = `${elsewhere.url}/sse`;
    const up = spawn(
      "make",
      ["up", `AGENT_PORT=${agentPort}`, `MCP_PORT=${mcpPort}`, `MCP_SERVER_URL=${url}`],
      {
        cwd: ROOT,
        detached: true,
        env: { ...process.env, GOOGLE_API_KEY: "", GOOGLE_CLOUD_PROJECT: "", MODEL_PROVIDER: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const { ready, output, stop } = watch(up);
    try {
      await ready;
      assert.ok(
        output().includes(
          `mcp-server  ${url}   (legacy SSE; MCP_SERVER_URL: no local mcp-server started)`,
        ),
        output(),
      );
      assert.doesNotMatch(
        output(),
        new RegExp(`127\\.0\\.0\\.1:${mcpPort}`),
        "the unused local port is not offered",
      );
      assert.doesNotMatch(output(), /^\[mcp-server\]/m, "no local mcp-server ran");
      assert.match(output(), /Ctrl-C stops it\./);
      await assert.rejects(fetch(`http://127.0.0.1:${mcpPort}/health`));
      const chat = await fetch(`http://127.0.0.1:${agentPort}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"message":"What is 100 USD in EUR?"}',
      });
      assert.equal(chat.status, 200, "the agent reaches the MCP server it was pointed at");
    } finally {
      await stop();
      await elsewhere.stop();
      await upstream.close();
    }
  });
});

describe("make", () => {
  it("up names the port that is taken and the setting that moves it, and starts nothing", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const r = await run("make", [
        "-s",
        "up",
        `AGENT_PORT=${taken}`,
        `MCP_PORT=${await freePort()}`,
      ]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.out,
        new RegExp(`up: port ${taken} is already in use: set AGENT_PORT to another port`),
      );
      assert.doesNotMatch(r.out, /EADDRINUSE|listening/);
    } finally {
      holder.close();
    }
  });

  it("reads .env, and the environment and the command line win over it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dotenv-"));
    try {
      const file = path.join(dir, "env");
      writeFileSync(
        file,
        '# a comment\nAGENT_URL="http://from-dotenv.example:1"\nexport DRY_RUN=1\n',
      );
      const fromFile = spawnSync("make", ["-s", "smoke"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, ENV_FILE: file, AGENT_URL: undefined, DRY_RUN: undefined },
      });
      assert.match(
        fromFile.stdout,
        /smoke checks against http:\/\/from-dotenv\.example:1 /,
        fromFile.stdout + fromFile.stderr,
      );
      const fromEnv = spawnSync("make", ["-s", "smoke"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, ENV_FILE: file, AGENT_URL: "http://from-env.example:2" },
      });
      assert.match(fromEnv.stdout, /against http:\/\/from-env\.example:2 /);
      const fromArgs = spawnSync("make", ["-s", "smoke", "AGENT_URL=http://from-args.example:3"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, ENV_FILE: file },
      });
      assert.match(fromArgs.stdout, /against http:\/\/from-args\.example:3 /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs both services with every line of .env.example uncommented as it stands", async () => {
    // One .env for both: each service reads only its own names, so no value of the other's stops it.
    const dir = mkdtempSync(path.join(tmpdir(), "dotenv-example-"));
    const file = path.join(dir, "env");
    writeFileSync(
      file,
      readFileSync(path.join(ROOT, ".env.example"), "utf8").replace(
        /^# ([A-Z][A-Z0-9_]*=)/gm,
        "$1",
      ),
    );
    const started: RunningService[] = [];
    try {
      assert.match(readFileSync(file, "utf8"), /^MCP_AUTH=auto$/m, "the file is uncommented");
      const dotenv = path.join(ROOT, "scripts/dotenv.sh");
      const mcp = await startService(
        "mcp-server",
        { ENV_FILE: file },
        { command: [dotenv, process.execPath, bundlePath("mcp-server")] },
      );
      started.push(mcp);
      const agent = await startService(
        "agent",
        { ENV_FILE: file, MCP_SERVER_URL: `${mcp.url}/mcp` },
        { command: [dotenv, process.execPath, bundlePath("agent")] },
      );
      started.push(agent);
      assert.equal((await fetch(`${agent.url}/ready`)).status, 200);
      assert.doesNotMatch(mcp.output() + agent.output(), /WARNING|ERROR/);
    } finally {
      await Promise.all(started.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("help colours only a terminal, and never with NO_COLOR", () => {
    const piped = spawnSync("make", ["-s", "help"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: undefined },
    });
    assert.match(piped.stdout, /^ {2}up +Build and run both services/m);
    assert.doesNotMatch(piped.stdout, /\x1b\[/);
    if (optionalTool("script", "apt-get install util-linux") !== false) return;
    const tty = spawnSync("script", ["-qec", "make -s help", "/dev/null"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: undefined },
    });
    assert.match(tty.stdout, /\x1b\[36mup/);
    const noColor = spawnSync("script", ["-qec", "make -s help", "/dev/null"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.match(noColor.stdout, /^ {2}up +Build/m);
    assert.doesNotMatch(noColor.stdout, /\x1b\[/);
  });
});
