// Runs the benchmark harness on its smallest setting so it cannot rot; no figure is judged here.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { it } from "node:test";
import { ROOT } from "./support/service.js";

it("make bench runs end to end and writes every figure", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-smoke-"));
  const out = path.join(dir, "results.json");
  try {
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ["--import", "tsx", "bench/run.ts"], {
        cwd: ROOT,
        env: { ...process.env, BENCH_SMOKE: "1", BENCH_OUT: out },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let log = "";
      p.stdout.on("data", (d: Buffer) => (log += d.toString()));
      p.stderr.on("data", (d: Buffer) => (log += d.toString()));
      const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
      p.once("exit", (c) => {
        clearTimeout(timer);
        if (c !== 0) console.error(log);
        resolve(c);
      });
    });
    assert.equal(code, 0);
    const results = JSON.parse(readFileSync(out, "utf8")) as {
      machine: { cores: number };
      figures: Array<{ group: string; name: string; ours: number }>;
    };
    assert.ok(results.machine.cores >= 1);
    const groups = new Set(results.figures.map((f) => f.group));
    for (const g of [
      "cold start",
      "mcp-server /mcp",
      "mcp-server /sse",
      "mcp-server auth",
      "memory",
      "size",
    ])
      assert.ok(groups.has(g), `group ${g}`);
    assert.ok([...groups].some((g) => g.startsWith("agent /chat")));
    for (const era of ["2025-06-18", "2026-07-28"]) {
      assert.ok(
        results.figures.some(
          (f) =>
            f.group === "mcp-server /mcp" &&
            f.name.startsWith("tools/call req/s") &&
            f.name.endsWith(era),
        ),
        `/mcp tools/call in ${era}`,
      );
    }
    for (const f of results.figures)
      assert.ok(Number.isFinite(f.ours) && f.ours >= 0, `${f.group} / ${f.name} = ${f.ours}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
