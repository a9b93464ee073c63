// make compose-up: a hint where no compose is installed; both ports on 127.0.0.1 unless COMPOSE_BIND opens them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { optionalTool, pathWithout } from "./support/optional-tool.js";
import { ROOT } from "./support/service.js";

const composeCommand = (): string | false => {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return false;
  return optionalTool(
    "docker-compose",
    "apt-get install docker-compose-plugin (Docker's repository) or docker-compose (Debian)",
  );
};

describe("make compose-up", () => {
  it("says how to get compose when neither the plugin nor docker-compose is installed", () => {
    const bin = pathWithout(["docker", "docker-compose"]);
    try {
      const r = spawnSync("make", ["-s", "compose-up"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: bin },
      });
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /neither `docker compose` \(the Compose plugin\) nor `docker-compose` is installed/,
      );
      assert.match(r.stderr, /apt-get install docker-compose-plugin/);
      assert.match(r.stderr, /https:\/\/docs\.docker\.com\/compose\/install\//);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("publishes both ports on 127.0.0.1 only, unless COMPOSE_BIND opens them", {
    skip: composeCommand(),
  }, () => {
    const config = (env: Record<string, string | undefined>) =>
      spawnSync("scripts/compose.sh", ["config"], {
        cwd: ROOT,
        encoding: "utf8",
        env: {
          ...process.env,
          COMPOSE_BIND: undefined,
          AGENT_PORT: undefined,
          MCP_PORT: undefined,
          ...env,
        },
      });
    const local = config({});
    assert.equal(local.status, 0, local.stderr);
    // docker-compose 1.x prints "127.0.0.1:8080:8080/tcp"-like short forms, the v2 plugin host_ip fields.
    const published = (out: string) =>
      [...out.matchAll(/(?:host_ip: (\S+)[\s\S]*?published: "?(\d+)|- (\S+?):(\d+):8080)/g)].map(
        (m) => `${m[1] ?? m[3]}:${m[2] ?? m[4]}`,
      );
    assert.deepEqual(
      published(local.stdout).sort(),
      ["127.0.0.1:8080", "127.0.0.1:8081"],
      local.stdout,
    );
    const open = config({ COMPOSE_BIND: "0.0.0.0", AGENT_PORT: "9080" });
    assert.deepEqual(published(open.stdout).sort(), ["0.0.0.0:8081", "0.0.0.0:9080"], open.stdout);
  });
});
