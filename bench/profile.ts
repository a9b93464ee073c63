// Where start-up time and idle memory go, by package: runs a bundle with --cpu-prof and --heap-prof,
// makes its first request, lets it idle, stops it, and maps the profiles back through the bundle's
// source map. Usage (Node 22, as in the images):
//   $(scripts/tools.sh node22) --import tsx bench/profile.ts agent|mcp-server [--top 15]
// CPU: self time per package until /health answers, and until the first request is answered. Memory: the heap still
// live when it stops, sampled every 4 KiB, by the package whose code allocated it.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, ROOT } from "../test/support/service.js";

const service = process.argv[2] === "mcp-server" ? "mcp-server" : "agent";
const top = Number(process.argv[process.argv.indexOf("--top") + 1]) || 15;
const bundle = path.join(ROOT, service, "dist", `${service}.mjs`);
const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8")));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const UNMAPPED = "(bundle code the source map does not cover)";
interface CallFrame {
  url: string;
  lineNumber: number;
  columnNumber: number;
  functionName: string;
}
const packageOf = (frame: CallFrame): string => {
  if (!frame.url.endsWith(`${service}.mjs`))
    return frame.url
      ? frame.url.startsWith("node:")
        ? "node internals"
        : frame.url
      : `(${frame.functionName || "vm"})`;
  const e = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
  const src = e.originalSource;
  if (!src) return UNMAPPED;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(src);
  return m ? m[1]! : path.relative(ROOT, path.resolve(path.dirname(bundle), src));
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "profile-"));
  const port = await freePort();
  const frank = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "test/support/frankfurter.ts"),
      "--port",
      String(await freePort()),
    ],
    { stdio: "pipe" },
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH!,
    HOST: "127.0.0.1",
    PORT: String(port),
  };
  // NODE_COMPILE_CACHE=dir profiles the bundle as the images run it (run twice: the first fills it).
  if (process.env.NODE_COMPILE_CACHE) env.NODE_COMPILE_CACHE = process.env.NODE_COMPILE_CACHE;
  let mcp: ReturnType<typeof spawn> | undefined;
  let firstUse: () => Promise<Response>;
  const base = `http://127.0.0.1:${port}`;
  if (service === "agent") {
    const mcpPort = await freePort();
    mcp = spawn(process.execPath, [path.join(ROOT, "mcp-server/dist/mcp-server.mjs")], {
      env: { ...env, PORT: String(mcpPort) },
      stdio: "ignore",
    });
    env.MCP_SERVER_URL = `http://127.0.0.1:${mcpPort}/mcp`;
    env.MODEL_PROVIDER = "offline";
    await until(() => fetch(`http://127.0.0.1:${mcpPort}/health`));
    firstUse = () =>
      fetch(`${base}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
      });
  } else {
    firstUse = () =>
      fetch(`${base}/mcp`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "get_exchange_rate", arguments: {} },
        }),
      });
  }
  const t0 = performance.now();
  const p = spawn(
    process.execPath,
    [
      "--cpu-prof",
      "--cpu-prof-interval=200",
      "--cpu-prof-dir",
      dir,
      "--heap-prof",
      "--heap-prof-interval=4096",
      "--heap-prof-dir",
      dir,
      bundle,
    ],
    { env, stdio: "ignore" },
  );
  await until(() => fetch(`${base}/health`));
  const health = performance.now() - t0;
  await until(firstUse);
  const used = performance.now() - t0;
  await sleep(1000);
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  await exited;
  mcp?.kill("SIGKILL");
  frank.kill("SIGKILL");
  console.log(
    `${service}: /health ${health.toFixed(0)} ms after spawn, first request answered at ${used.toFixed(0)} ms (with the profilers on: slower than a plain run)`,
  );

  const cpu = JSON.parse(
    readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!), "utf8"),
  ) as {
    nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const byNode = new Map(cpu.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of cpu.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Who made a library work: the nearest caller in the bundle from another package ("zod ← @modelcontextprotocol/sdk").
  const caller = (id: number, pkg: string): string | undefined => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byNode.get(p)!.callFrame;
      const by = f.url.endsWith(`${service}.mjs`) ? packageOf(f) : pkg;
      if (by !== pkg && by !== UNMAPPED) return by;
    }
    return undefined;
  };
  for (const [label, until] of [
    ["until /health answers", health],
    ["until the first request is answered", used],
  ] as const) {
    const cpuBy = new Map<string, number>();
    const callers = new Map<string, number>();
    let t = cpu.startTime;
    cpu.samples.forEach((id, i) => {
      t += cpu.timeDeltas[i]!;
      if (t > cpu.startTime + until * 1000) return;
      const f = byNode.get(id)!.callFrame;
      const key = /^\((program|garbage collector|idle)\)$/.test(f.functionName)
        ? f.functionName
        : packageOf(f);
      cpuBy.set(key, (cpuBy.get(key) ?? 0) + cpu.timeDeltas[i]! / 1000);
      const by = f.url.endsWith(`${service}.mjs`) ? caller(id, key) : undefined;
      if (by)
        callers.set(
          `${key} ← ${by}`,
          (callers.get(`${key} ← ${by}`) ?? 0) + cpu.timeDeltas[i]! / 1000,
        );
    });
    print(`CPU self time ${label} (ms)`, cpuBy, 1);
    print(`  the same, library ← the package that called it (ms)`, callers, 1);
  }

  interface HeapNode {
    callFrame: CallFrame;
    selfSize: number;
    children: HeapNode[];
  }
  const heap = JSON.parse(
    readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith(".heapprofile"))!), "utf8"),
  ) as { head: HeapNode };
  const memBy = new Map<string, number>();
  // Attribute each allocation to the innermost frame in the bundle (our code or a bundled package).
  const walk = (n: HeapNode, owner: string): void => {
    const here = n.callFrame.url.endsWith(`${service}.mjs`) ? packageOf(n.callFrame) : owner;
    if (n.selfSize) memBy.set(here, (memBy.get(here) ?? 0) + n.selfSize / 1024 / 1024);
    for (const c of n.children) walk(c, here);
  };
  walk(heap.head, "node internals");
  print("Live heap at idle after the first request, by allocating package (MB)", memBy, 2);
  rmSync(dir, { recursive: true, force: true });
}

function print(title: string, m: Map<string, number>, digits: number): void {
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${title}: total ${total.toFixed(digits)}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${v.toFixed(digits).padStart(8)}  ${k}`);
}

async function until(fn: () => Promise<Response>): Promise<void> {
  for (let i = 0; i < 15_000; i++) {
    if (
      await fn()
        .then((r) => r.ok)
        .catch(() => false)
    )
      return;
    await sleep(2);
  }
  throw new Error("timed out waiting");
}

void main();
