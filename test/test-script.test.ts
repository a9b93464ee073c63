// `make test` on a fresh machine: a missing optional tool is a skipped step with its install command,
// and a failure only where CI=true.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
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
    assert.match(r.stdout, /SKIPPED shellcheck \(not installed\)\. Install: apt-get install shellcheck/);
    assert.match(r.stdout, /SKIPPED container suite \(no Docker engine answers\)\. Install: .*scripts\/docker-engine\.sh/);
    assert.match(r.stdout, /passed, with 2 step\(s\) skipped/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour codes into a pipe");
  });

  it("fails where CI=true, naming the missing tool", () => {
    const r = run({ CI: "true" });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /FAIL: shellcheck not run \(not installed\), and CI=true requires it\. Install: apt-get install shellcheck/);
    assert.doesNotMatch(r.stdout, /passed/);
  });

  it("refuses a step it does not know", () => {
    const r = spawnSync("scripts/test.sh", ["lint"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown step 'lint' \(steps: typecheck bundle/);
  });
});

describe("optionalTool", () => {
  it("runs a test whose tool is there, skips with the install command otherwise, and fails in CI", async () => {
    const { optionalTool } = await import("./support/optional-tool.js");
    const saved = process.env.CI;
    try {
      process.env.CI = "";
      assert.equal(optionalTool("sh", "-"), false);
      assert.equal(optionalTool("no-such-tool-x", "apt-get install x"), "no-such-tool-x not installed. Install: apt-get install x");
      process.env.CI = "true";
      assert.throws(() => optionalTool("no-such-tool-x", "apt-get install x"), /CI=true requires it\. Install: apt-get install x/);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
