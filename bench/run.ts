// `make bench`: our cost measured against baselines taken in the same run (absolute times drift on
// shared machines). Everything on loopback, with local Frankfurter- and Gemini-compatible servers
// that answer at once, so only our own work is measured. QUICK=1: short run; BENCH_SMOKE=1: smallest.
import { spawn, execFile, execFileSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { freePort, ROOT } from "../test/support/service.js";
import { hasGcloud, startFirestoreEmulator } from "../test/support/firestore-emulator.js";
import {
  containerColdStarts,
  dockerReady,
  type ContainerCase,
  type ContainerResult,
} from "./container.js";

const SMOKE = process.env.BENCH_SMOKE === "1";
const QUICK = SMOKE || process.env.QUICK === "1";
const STARTS = SMOKE ? 1 : QUICK ? 3 : 10;
const SECONDS = SMOKE ? 0.5 : QUICK ? 1.5 : 4;
const SESSIONS = SMOKE ? 20 : QUICK ? 1000 : 10_000;
const TTL_SECONDS = SMOKE ? 2 : QUICK ? 10 : 40;
const CONCURRENCY = SMOKE ? [1] : [1, 16, 64];
const PEER = !SMOKE && process.env.BENCH_PEER !== "0";
const OUT = process.env.BENCH_OUT ?? path.join(ROOT, "bench", "results.json");
// BENCH_ONLY=start: cold start and idle memory only (hosts and containers), for iterating on start-up.
const ONLY_START = process.env.BENCH_ONLY === "start";
// Container figures need the images scripts/bench.sh builds (BENCH_CONTAINERS=1: it built them, so
// they must run; 0: skip). Without the variable they run when the images exist, except in the smoke run.
const CONTAINERS = process.env.BENCH_CONTAINERS ? process.env.BENCH_CONTAINERS === "1" : !SMOKE;
const IMAGES = {
  floor: "bench-floor:local",
  mcp: "bench-mcp-server:local",
  mcpBare: "bench-mcp-server:bundle",
  agent: "bench-agent:local",
  agentBare: "bench-agent:bundle",
};
// BENCH_COMPARE=ref: the images scripts/bench.sh built from that git ref (bench-*:compare) run in the
// same interleaved rounds, so a change's before and after come from one run.
const COMPARE = process.env.BENCH_COMPARE;

interface Figure {
  group: string;
  name: string;
  ours: number;
  baseline?: number;
  baselineName?: string;
  unit: string;
  lowerIsBetter: boolean;
  note?: string;
}
const figures: Figure[] = [];
const record = (f: Figure): void => {
  figures.push(f);
  // A figure that could not be measured says "not run" and why (its note), never NaN.
  if (!Number.isFinite(f.ours) && (f.baseline === undefined || !Number.isFinite(f.baseline))) {
    console.error(`  ${f.group} / ${f.name}: not run (${f.note ?? "no measurement"})`);
    return;
  }
  const ours = Number.isFinite(f.ours)
    ? `${round(f.ours)} ${f.unit}`
    : `ours not run (${f.note ?? "no measurement"})`;
  const ratio =
    f.baseline && Number.isFinite(f.baseline)
      ? ` (${f.baselineName} ${round(f.baseline)}${Number.isFinite(f.ours) ? `; ratio ${round(f.ours / f.baseline)}` : ` ${f.unit}`})`
      : "";
  console.error(`  ${f.group} / ${f.name}: ${ours}${ratio}`);
};
const round = (n: number): number => Math.round(n * 100) / 100;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const procs: ChildProcess[] = [];
function launch(cmd: string[], env: Record<string, string>): ChildProcess {
  const p = spawn(cmd[0]!, cmd.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: "127.0.0.1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (process.env.BENCH_LOGS) {
    // Keep each process's output for debugging a run: BENCH_LOGS=dir.
    const log = createWriteStream(
      path.join(
        process.env.BENCH_LOGS,
        `${path.basename(cmd[cmd.length - 1]!)}-${procs.length}.log`,
      ),
    );
    p.stdout!.pipe(log);
    p.stderr!.pipe(log);
  } else {
    p.stdout!.resume();
    p.stderr!.resume();
  }
  procs.push(p);
  return p;
}
async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill("SIGKILL");
  await gone;
}
async function until(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await sleep(2);
  }
  throw new Error("timed out waiting");
}
const ok = (url: string, init?: RequestInit) => async () => (await fetch(url, init)).ok;

// The images run Node 22: scripts/bench.sh runs this harness (and so every service it starts) on it.
// BENCH_NODE20: a Node 20 binary for a second cold-start column (the bundles support both).
const NODE = process.execPath;
const NODE20 =
  process.env.BENCH_NODE20 && !process.version.startsWith("v20.")
    ? process.env.BENCH_NODE20
    : undefined;
const TSX = ["--import", "tsx"];
const bundle = (s: string) => path.join(ROOT, s, "dist", `${s}.mjs`);
const source = (s: string) => path.join(ROOT, s, "src", "main.ts");

const TOOL_CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: {
    name: "get_exchange_rate",
    arguments: { currency_from: "USD", currency_to: "EUR", amount: 100 },
  },
});
const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-06-18",
};
// The same call in MCP 2026-07-28: no handshake; the version and the client ride in `_meta`, the routing headers are set.
const TOOL_CALL_2026 = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: {
    name: "get_exchange_rate",
    arguments: { currency_from: "USD", currency_to: "EUR", amount: 100 },
    _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    },
  },
});
const MCP_HEADERS_2026 = {
  ...MCP_HEADERS,
  "mcp-protocol-version": "2026-07-28",
  "mcp-method": "tools/call",
  "mcp-name": "get_exchange_rate",
};
const CHAT = JSON.stringify({ message: "What is 100 USD in EUR?" });

async function standIn(name: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = launch(
    [NODE, ...TSX, path.join(ROOT, "test/support", `${name}.ts`), "--port", String(port)],
    {},
  );
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    await fetch(url);
    return true;
  });
  return { url, proc };
}

async function coldStart(
  label: string,
  cmd: string[],
  env: Record<string, string>,
  firstUse: (base: string) => () => Promise<boolean>,
): Promise<{ health: number; use: number }> {
  const health: number[] = [];
  const use: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const p = launch(cmd, { ...env, PORT: String(port) });
    p.once("exit", (code) => {
      if (code !== null)
        console.error(`  ${label} exited with ${code} (BENCH_LOGS=dir keeps its output)`);
    });
    await until(ok(`${base}/health`));
    health.push(performance.now() - t0);
    await until(firstUse(base));
    use.push(performance.now() - t0);
    await stop(p);
  }
  console.error(
    `  cold start ${label}: health ${round(median(health))} ms, first use ${round(median(use))} ms`,
  );
  return { health: median(health), use: median(use) };
}

async function load(
  url: string,
  connections: number,
  opts: { method?: "POST" | "GET"; body?: string; headers?: Record<string, string> } = {},
) {
  const r = await autocannon({
    url,
    connections,
    duration: SECONDS,
    method: opts.method ?? "GET",
    body: opts.body,
    headers: opts.headers,
  });
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function main(): Promise<void> {
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "?",
    node: process.version,
    quick: QUICK,
    smoke: SMOKE,
  };
  console.error(`bench: ${JSON.stringify(machine)}`);
  const frank = await standIn("frankfurter");
  const gemini = await standIn("gemini");
  const mcpEnv = { FRANKFURTER_URL: `${frank.url}/v1` };
  const toolCall = (base: string) =>
    ok(`${base}/mcp`, { method: "POST", headers: MCP_HEADERS, body: TOOL_CALL });
  const chat = (base: string) =>
    ok(`${base}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT,
    });

  // A long-lived mcp-server for the agent's measurements.
  const mcpPort = await freePort();
  const mcpProc = launch([NODE, bundle("mcp-server")], { ...mcpEnv, PORT: String(mcpPort) });
  const mcpUrl = `http://127.0.0.1:${mcpPort}`;
  await until(toolCall(mcpUrl));

  // 1. Cold start
  console.error("1. cold start");
  const floor = await coldStart("floor", [NODE, path.join(ROOT, "bench/floor.mjs")], {}, (b) =>
    ok(`${b}/health`),
  );
  const mcpB = await coldStart("mcp-server bundle", [NODE, bundle("mcp-server")], mcpEnv, toolCall);
  const mcpU = await coldStart(
    "mcp-server unbundled",
    [NODE, ...TSX, source("mcp-server")],
    mcpEnv,
    toolCall,
  );
  const agentEnv = { MCP_SERVER_URL: `${mcpUrl}/mcp`, MODEL_PROVIDER: "offline" };
  const agB = await coldStart("agent bundle", [NODE, bundle("agent")], agentEnv, chat);
  // No unbundled agent baseline: its source imports the page files as text, which only esbuild loads.
  const node = `Node ${process.versions.node.split(".")[0]}`;
  record({
    group: "cold start",
    name: `mcp-server → /health (${node})`,
    ours: mcpB.health,
    baseline: floor.health,
    baselineName: "bare node:http",
    unit: "ms",
    lowerIsBetter: true,
  });
  record({
    group: "cold start",
    name: "mcp-server → first tool call",
    ours: mcpB.use,
    baseline: mcpU.use,
    baselineName: "unbundled (tsx)",
    unit: "ms",
    lowerIsBetter: true,
  });
  record({
    group: "cold start",
    name: `agent → /health (${node})`,
    ours: agB.health,
    baseline: floor.health,
    baselineName: "bare node:http",
    unit: "ms",
    lowerIsBetter: true,
  });
  record({
    group: "cold start",
    name: "agent → first /chat",
    ours: agB.use,
    baseline: floor.health,
    baselineName: "bare node:http → /health",
    unit: "ms",
    lowerIsBetter: true,
  });
  if (NODE20) {
    const floor20 = await coldStart(
      "floor (Node 20)",
      [NODE20, path.join(ROOT, "bench/floor.mjs")],
      {},
      (b) => ok(`${b}/health`),
    );
    const mcp20 = await coldStart(
      "mcp-server bundle (Node 20)",
      [NODE20, bundle("mcp-server")],
      mcpEnv,
      toolCall,
    );
    const ag20 = await coldStart(
      "agent bundle (Node 20)",
      [NODE20, bundle("agent")],
      agentEnv,
      chat,
    );
    record({
      group: "cold start",
      name: "mcp-server → /health (Node 20)",
      ours: mcp20.health,
      baseline: floor20.health,
      baselineName: "bare node:http, Node 20",
      unit: "ms",
      lowerIsBetter: true,
    });
    record({
      group: "cold start",
      name: "agent → /health (Node 20)",
      ours: ag20.health,
      baseline: floor20.health,
      baselineName: "bare node:http, Node 20",
      unit: "ms",
      lowerIsBetter: true,
    });
  }

  // 1b. The same in the images, against a bare node:http image on the same base
  if (CONTAINERS) {
    const compared = COMPARE ? ["bench-mcp-server:compare", "bench-agent:compare"] : [];
    if (dockerReady([...Object.values(IMAGES), ...compared]))
      await containers(mcpEnv, agentEnv, gemini.url, toolCall, chat);
    else if (process.env.BENCH_CONTAINERS === "1")
      throw new Error("BENCH_CONTAINERS=1 but the bench images are missing: run scripts/bench.sh");
    else
      console.error(
        "  container figures NOT RUN: no Docker engine or no bench images (scripts/bench.sh builds them)",
      );
  }
  if (ONLY_START) {
    writeFileSync(
      OUT,
      JSON.stringify({ machine, figures, generated_at: new Date().toISOString() }, null, 2),
    );
    console.log(markdown(machine));
    return;
  }

  // 2. mcp-server throughput (warm cache) against a bare server returning a body of the same size
  console.error("2. mcp-server throughput");
  const sample = await (
    await fetch(`${mcpUrl}/mcp`, { method: "POST", headers: MCP_HEADERS, body: TOOL_CALL })
  ).text();
  const floorPort = await freePort();
  const floorProc = launch([NODE, path.join(ROOT, "bench/floor.mjs")], {
    PORT: String(floorPort),
    BODY_BYTES: String(sample.length),
  });
  await until(ok(`http://127.0.0.1:${floorPort}/`));
  for (const c of CONCURRENCY) {
    const base = await load(`http://127.0.0.1:${floorPort}/`, c, {
      method: "POST",
      body: TOOL_CALL,
      headers: MCP_HEADERS,
    });
    // Both protocol eras on the one endpoint: a 2025-era client after its initialize, and 2026-07-28.
    for (const [era, body, headers] of [
      ["2025-06-18", TOOL_CALL, MCP_HEADERS],
      ["2026-07-28", TOOL_CALL_2026, MCP_HEADERS_2026],
    ] as const) {
      const ours = await load(`${mcpUrl}/mcp`, c, { method: "POST", body, headers });
      record({
        group: "mcp-server /mcp",
        name: `tools/call req/s, c=${c}, ${era}`,
        ours: ours.rps,
        baseline: base.rps,
        baselineName: "bare node:http",
        unit: "req/s",
        lowerIsBetter: false,
      });
      record({
        group: "mcp-server /mcp",
        name: `tools/call p50 / p99, c=${c}, ${era}`,
        ours: ours.p50,
        baseline: base.p50,
        baselineName: "bare p50",
        unit: "ms",
        lowerIsBetter: true,
        note: `p99 ${ours.p99} ms (bare ${base.p99})`,
      });
    }
    // SSE needs a session per client; autocannon cannot hold one, so SDK clients loop for the same time.
    const sse = await sseLoad(mcpUrl, c);
    record({
      group: "mcp-server /sse",
      name: `tools/call req/s, c=${c} (SDK clients)`,
      ours: sse.rps,
      baseline: base.rps,
      baselineName: "bare node:http",
      unit: "req/s",
      lowerIsBetter: false,
      note: `p50 ${round(sse.p50)} ms, p99 ${round(sse.p99)} ms`,
    });
  }
  await stop(floorProc);
  await authCost();

  // 3. Agent turn overhead: model and tool answer at once; what is left is ours
  console.error("3. agent turn");
  const geminiAgent = await startAgent({
    MCP_SERVER_URL: `${mcpUrl}/mcp`,
    GOOGLE_API_KEY: "bench",
    GOOGLE_GEMINI_BASE_URL: gemini.url,
  });
  const offlineAgent = await startAgent({
    MCP_SERVER_URL: `${mcpUrl}/mcp`,
    MODEL_PROVIDER: "offline",
  });
  const modelCall = await load(`${gemini.url}/v1beta/models/gemini-3.8-flash:generateContent`, 1, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": "bench" },
    body: JSON.stringify({
      contents: [{ role: "user", parts: [{ text: "What is 100 USD in EUR?" }] }],
      tools: [{ functionDeclarations: [{ name: "get_exchange_rate" }] }],
    }),
  });
  const tool1 = await load(`${mcpUrl}/mcp`, 1, {
    method: "POST",
    body: TOOL_CALL,
    headers: MCP_HEADERS,
  });
  for (const [label, a] of [
    ["Gemini (local server)", geminiAgent],
    ["offline model", offlineAgent],
  ] as const) {
    for (const c of SMOKE ? [1] : [1, 16]) {
      const r = await load(`${a.url}/chat`, c, {
        method: "POST",
        body: CHAT,
        headers: { "content-type": "application/json" },
      });
      record({
        group: `agent /chat, ${label}`,
        name: `req/s, c=${c}`,
        ours: r.rps,
        unit: "req/s",
        lowerIsBetter: false,
        note: `p50 ${r.p50} ms, p99 ${r.p99} ms`,
      });
      if (c === 1) {
        const outside = r.p50 - tool1.p50 - (label.startsWith("Gemini") ? 2 * modelCall.p50 : 0);
        record({
          group: `agent /chat, ${label}`,
          name: "turn overhead outside model and tool, p50",
          ours: Math.max(0, outside),
          unit: "ms",
          lowerIsBetter: true,
          note: `turn p50 ${r.p50} ms − tool ${tool1.p50} ms${label.startsWith("Gemini") ? ` − 2 × model ${modelCall.p50} ms` : ""} (autocannon rounds to 1 ms)`,
        });
      }
    }
  }

  // The offline turn with conversations in Firestore (its emulator), beside the memory store: the
  // store's own cost per turn (a load and a save, each a transaction). Not in the smoke run (the
  // emulator takes ~10 s to start).
  if (!SMOKE) await firestoreTurn(mcpUrl, offlineAgent.url);

  // 4. Memory
  console.error("4. memory");
  const idleMcpProc = launch([NODE, bundle("mcp-server")], {
    ...mcpEnv,
    PORT: String(await freePort()),
  });
  await sleep(1500);
  const idleMcp = rssMb(idleMcpProc.pid!);
  await stop(idleMcpProc);
  const memAgent = await startAgent({
    MCP_SERVER_URL: `${mcpUrl}/mcp`,
    MODEL_PROVIDER: "offline",
    SESSION_TTL_SECONDS: String(TTL_SECONDS),
    SESSION_MAX: String(SESSIONS * 2),
  });
  await sleep(500);
  const idleAgent = rssMb(memAgent.proc.pid!);
  record({
    group: "memory",
    name: "mcp-server RSS idle",
    ours: idleMcp,
    unit: "MB",
    lowerIsBetter: true,
  });
  record({
    group: "memory",
    name: "agent RSS idle (after one /ready)",
    ours: idleAgent,
    unit: "MB",
    lowerIsBetter: true,
  });
  record({
    group: "memory",
    name: "mcp-server RSS after the load tests",
    ours: rssMb(mcpProc.pid!),
    baseline: idleMcp,
    baselineName: "idle",
    unit: "MB",
    lowerIsBetter: true,
  });
  const fillStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < SESSIONS) {
        next++;
        // The second turn continues with the id the agent issued (made-up ids start a new conversation).
        let sessionId: string | undefined;
        for (const m of ["What is 100 USD in EUR?", "and 5 GBP in JPY?"]) {
          const res = await fetch(`${memAgent.url}/chat`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: m, ...(sessionId ? { session_id: sessionId } : {}) }),
          });
          if (!res.ok) throw new Error(`chat failed: ${res.status}`);
          sessionId = ((await res.json()) as { session_id: string }).session_id;
        }
      }
    }),
  );
  const filled = rssMb(memAgent.proc.pid!);
  const fillSeconds = (performance.now() - fillStart) / 1000;
  record({
    group: "memory",
    name: `agent RSS after ${SESSIONS} sessions × 2 turns`,
    ours: filled,
    baseline: idleAgent,
    baselineName: "idle",
    unit: "MB",
    lowerIsBetter: true,
    note: `filled in ${round(fillSeconds)} s`,
  });
  await sleep(Math.max(0, TTL_SECONDS * 1000 - (performance.now() - fillStart)) + 1500);
  await fetch(`${memAgent.url}/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CHAT,
  }); // a save sweeps expired sessions
  await sleep(1000);
  record({
    group: "memory",
    name: "agent RSS after the TTL expired them",
    ours: rssMb(memAgent.proc.pid!),
    baseline: filled,
    baselineName: "filled",
    unit: "MB",
    lowerIsBetter: true,
    note: "V8 keeps freed heap for reuse; RSS falls slowly",
  });
  for (const s of ["mcp-server", "agent"])
    record({
      group: "size",
      name: `${s} bundle`,
      ours: statSync(bundle(s)).size / 1024,
      unit: "KiB",
      lowerIsBetter: true,
    });
  for (const image of [IMAGES.floor, IMAGES.mcp, IMAGES.agent]) {
    try {
      const bytes = Number(
        execFileSync("docker", ["image", "inspect", "-f", "{{.Size}}", image], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }).trim(),
      );
      record({
        group: "size",
        name: `image ${image}`,
        ours: bytes / 1e6,
        unit: "MB",
        lowerIsBetter: true,
      });
    } catch {
      // no engine or no image: reported as absent
    }
  }

  // 5. The ADK peer
  if (PEER) await peer(mcpUrl, gemini.url, floor.health, agB, idleAgent);

  const table = markdown(machine);
  writeFileSync(
    OUT,
    JSON.stringify({ machine, figures, generated_at: new Date().toISOString() }, null, 2),
  );
  console.log(table);
  console.error(`bench: wrote ${path.relative(ROOT, OUT)}`);
}

async function containers(
  mcpEnv: Record<string, string>,
  agentEnv: Record<string, string>,
  geminiUrl: string,
  toolCall: (b: string) => () => Promise<boolean>,
  chat: (b: string) => () => Promise<boolean>,
): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS) || (SMOKE ? 1 : QUICK ? 3 : 9);
  console.error(`1b. container cold start (${rounds} interleaved rounds)`);
  const geminiEnv = {
    MCP_SERVER_URL: agentEnv.MCP_SERVER_URL!,
    GOOGLE_API_KEY: "bench",
    GOOGLE_GEMINI_BASE_URL: geminiUrl,
  };
  const compared: ContainerCase[] = COMPARE
    ? [
        {
          label: `mcp-server (${COMPARE})`,
          image: "bench-mcp-server:compare",
          env: mcpEnv,
          firstUse: toolCall,
        },
        {
          label: `agent (${COMPARE})`,
          image: "bench-agent:compare",
          env: agentEnv,
          firstUse: chat,
        },
        {
          label: `agent with Gemini (${COMPARE})`,
          image: "bench-agent:compare",
          env: geminiEnv,
          firstUse: chat,
        },
      ]
    : [];
  const [floor, mcp, mcpBare, agent, agentBare, agentGemini, ...others] = await containerColdStarts(
    [
      { label: "floor", image: IMAGES.floor, env: {} },
      { label: "mcp-server", image: IMAGES.mcp, env: mcpEnv, firstUse: toolCall },
      {
        label: "mcp-server, no compile cache",
        image: IMAGES.mcpBare,
        env: mcpEnv,
        firstUse: toolCall,
      },
      { label: "agent", image: IMAGES.agent, env: agentEnv, firstUse: chat },
      { label: "agent, no compile cache", image: IMAGES.agentBare, env: agentEnv, firstUse: chat },
      // As deployed: Gemini (a local stand-in) loads @google/genai at start; the offline model does not.
      { label: "agent with Gemini", image: IMAGES.agent, env: geminiEnv, firstUse: chat },
      ...compared,
    ],
    rounds,
    freePort,
  );
  const spread = (xs: number[]): string =>
    `median of ${xs.length}, range ${round(Math.min(...xs))}–${round(Math.max(...xs))}`;
  const g = "container cold start";
  const fh = median(floor!.health);
  const row = (r: ContainerResult, use: string): void => {
    record({
      group: g,
      name: `${r.label} → /health`,
      ours: median(r.health),
      baseline: fh,
      baselineName: "bare node:http image",
      unit: "ms",
      lowerIsBetter: true,
      note: spread(r.health),
    });
    record({
      group: g,
      name: `${r.label} → ${use}`,
      ours: median(r.use),
      baseline: fh,
      baselineName: "bare node:http image",
      unit: "ms",
      lowerIsBetter: true,
      note: spread(r.use),
    });
    if (Number.isFinite(fc))
      record({
        group: g,
        name: `${r.label}: CPU time until ${use} answered`,
        ours: median(r.cpu),
        baseline: fc,
        baselineName: "bare node:http image until /health",
        unit: "ms",
        lowerIsBetter: true,
        note: spread(r.cpu),
      });
  };
  record({
    group: g,
    name: "bare node:http image → /health",
    ours: fh,
    unit: "ms",
    lowerIsBetter: true,
    note: spread(floor!.health),
  });
  const fc = median(floor!.cpu);
  if (Number.isFinite(fc))
    record({
      group: g,
      name: "bare node:http image: CPU time until /health answered",
      ours: fc,
      unit: "ms",
      lowerIsBetter: true,
      note: spread(floor!.cpu),
    });
  row(mcp!, "first tools/call");
  row(mcpBare!, "first tools/call");
  row(agent!, "first /chat");
  row(agentBare!, "first /chat");
  row(agentGemini!, "first /chat");
  for (const r of others)
    row(r, r.label.startsWith("mcp-server") ? "first tools/call" : "first /chat");
  const m = "container memory";
  const fw = median(floor!.workingSet);
  const fa = median(floor!.anon);
  record({
    group: m,
    name: "bare node:http image, idle",
    ours: fw,
    unit: "MB",
    lowerIsBetter: true,
    note: `cgroup anon ${round(fa)} MB`,
  });
  for (const r of [mcp!, mcpBare!, agent!, agentBare!, agentGemini!, ...others]) {
    const w = median(r.workingSet);
    const a = median(r.anon);
    record({
      group: m,
      name: `${r.label}, idle after its first request`,
      ours: w,
      baseline: fw,
      baselineName: "bare node:http image",
      unit: "MB",
      lowerIsBetter: true,
      note: `+${round(w - fw)} MB; cgroup anon ${round(a)} MB (+${round(a - fa)}); ${spread(r.workingSet)}`,
    });
  }
}

async function firestoreTurn(mcpUrl: string, memoryAgentUrl: string): Promise<void> {
  const group = "agent /chat, offline model, session store";
  if (!hasGcloud()) {
    record({
      group,
      name: "turn p50, Firestore (emulator)",
      ours: NaN,
      unit: "ms",
      lowerIsBetter: true,
      note: "gcloud with the Firestore emulator is not installed",
    });
    return;
  }
  const emulator = await startFirestoreEmulator();
  try {
    const agent = await startAgent({
      MCP_SERVER_URL: `${mcpUrl}/mcp`,
      MODEL_PROVIDER: "offline",
      SESSION_STORE: "firestore",
      FIRESTORE_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: "demo-bench",
    });
    const chat = {
      method: "POST" as const,
      body: CHAT,
      headers: { "content-type": "application/json" },
    };
    const memory = await load(`${memoryAgentUrl}/chat`, 1, chat);
    const firestore = await load(`${agent.url}/chat`, 1, chat);
    record({
      group,
      name: "turn p50, Firestore (emulator)",
      ours: firestore.p50,
      baseline: memory.p50,
      baselineName: "memory store",
      unit: "ms",
      lowerIsBetter: true,
      note: `p99 ${firestore.p99} ms; every turn is a new conversation: a load and a save, each a Firestore transaction`,
    });
    await stop(agent.proc);
  } finally {
    await emulator.stop();
  }
}

/**
 * What checking a token on every call costs: the server's CPU per cached 2026-era tools/call in
 * process (mcp-server/test/support/bench-app.ts: app.fetch, no sockets, keys cached after a warm-up),
 * with a Google ID token and with an oidc-provider access token, beside no auth. CPU time in
 * interleaved rounds: steadier than req/s on a shared machine.
 */
async function authCost(): Promise<void> {
  const rounds = SMOKE ? 1 : QUICK ? 3 : 8;
  const calls = SMOKE ? 200 : 3000;
  const script = path.join(ROOT, "mcp-server/test/support/bench-app.ts");
  const run = promisify(execFile);
  const cpu: Record<"none" | "google-id-token" | "oauth", number[]> = {
    none: [],
    "google-id-token": [],
    oauth: [],
  };
  for (let r = 0; r < rounds; r++) {
    for (const auth of Object.keys(cpu) as Array<keyof typeof cpu>) {
      const args = [...TSX, script, "2026", String(calls), "{}", auth];
      const { stdout } = await run(NODE, args, { cwd: ROOT, encoding: "utf8" });
      const last = stdout.trim().split("\n").at(-1)!;
      cpu[auth].push((JSON.parse(last) as { cpu_us_per_call: number }).cpu_us_per_call);
    }
  }
  for (const auth of ["google-id-token", "oauth"] as const) {
    record({
      group: "mcp-server auth",
      name: `CPU per cached tools/call, MCP_SERVER_AUTH=${auth}`,
      ours: median(cpu[auth]),
      baseline: median(cpu.none),
      baselineName: "none",
      unit: "µs",
      lowerIsBetter: true,
      note: `median of ${rounds} interleaved round(s) of ${calls} calls, in process`,
    });
  }
}

async function startAgent(
  env: Record<string, string>,
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = launch([NODE, bundle("agent")], { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await until(ok(`${url}/ready`));
  return { url, proc };
}

async function sseLoad(
  base: string,
  clients: number,
): Promise<{ rps: number; p50: number; p99: number }> {
  const cs = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new Client({ name: "bench", version: "1" });
      await c.connect(new SSEClientTransport(new URL(`${base}/sse`)));
      return c;
    }),
  );
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    cs.map(async (c) => {
      while (performance.now() < end) {
        const t = performance.now();
        await c.callTool({
          name: "get_exchange_rate",
          arguments: { currency_from: "USD", currency_to: "EUR", amount: 100 },
        });
        lat.push(performance.now() - t);
      }
    }),
  );
  await Promise.all(cs.map((c) => c.close()));
  return { rps: lat.length / SECONDS, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function peer(
  mcpUrl: string,
  geminiUrl: string,
  floorMs: number,
  ours: { health: number; use: number },
  oursIdle: number,
): Promise<void> {
  console.error("5. ADK peer");
  const dir = path.join(ROOT, "bench/peer");
  if (!existsSync(path.join(dir, "node_modules/@google/adk"))) {
    try {
      execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: dir,
        stdio: "inherit",
      });
    } catch (err) {
      const why = `not run: the ADK peer is not installed and \`npm ci\` in bench/peer failed (${(err as Error).message.split("\n")[0]})`;
      for (const name of [
        "cold start → connected MCP tools",
        "RSS idle",
        "turn p50 in process (model + tool at once)",
      ]) {
        record({ group: "ADK peer", name, ours: NaN, unit: "", lowerIsBetter: true, note: why });
      }
      return;
    }
  }
  const env = {
    MCP_SERVER_URL: `${mcpUrl}/mcp`,
    GOOGLE_API_KEY: "bench",
    GOOGLE_GEMINI_BASE_URL: geminiUrl,
  };
  const ready: number[] = [];
  const turns: number[] = [];
  let rss = 0;
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const p = launch([NODE, path.join(dir, "agent.mjs")], env);
    const lines: string[] = [];
    let buf = "";
    p.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l.startsWith("{")));
    });
    await until(async () => lines.length >= 1, 60_000);
    ready.push(performance.now() - t0);
    await sleep(500);
    rss = rssMb(p.pid!);
    for (let k = 0; k < 5; k++) {
      p.stdin!.write("What is 100 USD in EUR?\n");
      await until(async () => lines.length >= 2 + k, 30_000);
      turns.push(JSON.parse(lines[1 + k]!).ms as number);
    }
    await stop(p);
  }
  record({
    group: "ADK peer",
    name: "cold start → connected MCP tools",
    ours: ours.use,
    baseline: median(ready),
    baselineName: "ADK (spawn → MCPToolset ready)",
    unit: "ms",
    lowerIsBetter: true,
    note: `ours: spawn → first answered /chat; floor ${round(floorMs)} ms`,
  });
  record({
    group: "ADK peer",
    name: "RSS idle",
    ours: oursIdle,
    baseline: rss,
    baselineName: "ADK",
    unit: "MB",
    lowerIsBetter: true,
  });
  record({
    group: "ADK peer",
    name: "turn p50 in process (model + tool at once)",
    ours: NaN,
    baseline: turns.length ? median(turns) : NaN,
    baselineName: "ADK",
    unit: "ms",
    lowerIsBetter: true,
    note: "not run in process; ours over HTTP is in group 3",
  });
}

function markdown(machine: Record<string, unknown>): string {
  const rows = figures.map((f) => {
    const ratio = f.baseline && Number.isFinite(f.ours) ? round(f.ours / f.baseline) : "";
    return `| ${f.group} | ${f.name} | ${Number.isFinite(f.ours) ? `${round(f.ours)} ${f.unit}` : "not run"} | ${f.baseline !== undefined && Number.isFinite(f.baseline) ? `${round(f.baseline)} ${f.unit} (${f.baselineName})` : ""} | ${ratio} | ${f.note ?? ""} |`;
  });
  return [
    `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}${QUICK ? ", QUICK" : ""}${SMOKE ? ", SMOKE" : ""}`,
    "",
    "| group | figure | ours | baseline | ratio | note |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(procs.map(stop));
  });
