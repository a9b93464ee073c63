// Measures what tracing costs (issue 16), apart from bench/run.ts:
//   start: each bundle spawned N times, interleaved with a reference bundle (REF_DIR, e.g. one built
//          from main before tracing), time from spawn to the first /health 200 and RSS 500 ms later;
//   turn:  /chat latency with tracing off and on (exporting to a local OTLP receiver), and of the
//          reference bundles (REF_DIR) when given, interleaved.
// The CPU is shared: medians, with the spread (p10..p90). Usage:
//   [SERVICES=agent|mcp-server] [NODE_FLAGS=…] node --import tsx test/support/measure-tracing.ts start [N] [REF_DIR]
//   node --import tsx test/support/measure-tracing.ts turn [TURNS] [REF_DIR]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startFrankfurter } from "./frankfurter.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { bundlePath, freePort, startService, type RunningService } from "./service.js";

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const summary = (xs: number[], unit: string): string =>
  `median ${pct(xs, 50).toFixed(1)} ${unit} (p10 ${pct(xs, 10).toFixed(1)} .. p90 ${pct(xs, 90).toFixed(1)}, n=${xs.length})`;

async function startOnce(
  file: string,
  env: Record<string, string>,
): Promise<{ ms: number; rssMiB: number }> {
  const port = await freePort();
  const t0 = performance.now();
  // NODE_FLAGS (e.g. --max-semi-space-size=1) pins V8 settings whose step changes would hide small deltas.
  const flags = (process.env.NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const proc = spawn(process.execPath, [...flags, file], {
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: "ignore",
  });
  let ms = 0;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) {
        ms = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 500));
  const rss =
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"))?.[1] ?? 0) /
    1024;
  proc.kill("SIGKILL");
  await new Promise((r) => proc.once("exit", r));
  return { ms, rssMiB: rss };
}

async function start(n: number, refDir: string): Promise<void> {
  const only = process.env.SERVICES?.split(",");
  for (const service of (["agent", "mcp-server"] as const).filter(
    (s) => !only || only.includes(s),
  )) {
    const env: Record<string, string> =
      service === "agent"
        ? { MODEL_PROVIDER: "offline", MCP_SERVER_URL: "http://127.0.0.1:9/mcp" }
        : {};
    const runs: Record<string, { ms: number[]; rss: number[] }> = {
      reference: { ms: [], rss: [] },
      "this (tracing off)": { ms: [], rss: [] },
      "this (tracing on)": { ms: [], rss: [] },
    };
    for (let i = 0; i < n; i++) {
      for (const [name, file, extra] of [
        ["reference", path.join(refDir, `${service}.mjs`), {}],
        ["this (tracing off)", bundlePath(service), {}],
        [
          "this (tracing on)",
          bundlePath(service),
          { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" },
        ],
      ] as const) {
        const r = await startOnce(file, { ...env, ...extra });
        runs[name]!.ms.push(r.ms);
        runs[name]!.rss.push(r.rssMiB);
      }
    }
    for (const [name, r] of Object.entries(runs))
      console.log(
        `${service} ${name}: start ${summary(r.ms, "ms")}; idle RSS ${summary(r.rss, "MiB")}`,
      );
  }
}

async function turn(turns: number, refDir: string | undefined): Promise<void> {
  const receiver = await startOtlpReceiver();
  const upstream = await startFrankfurter();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
  const started: RunningService[] = [];
  const pair = async (on: boolean, ref?: string): Promise<RunningService> => {
    const command = (s: "agent" | "mcp-server"): { command?: string[] } =>
      ref ? { command: [process.execPath, path.join(ref, `${s}.mjs`)] } : {};
    const mcp = await startService(
      "mcp-server",
      { FRANKFURTER_URL: upstream.url, ...(on ? otel : {}) },
      command("mcp-server"),
    );
    const agent = await startService(
      "agent",
      { MCP_SERVER_URL: `${mcp.url}/mcp`, MODEL_PROVIDER: "offline", ...(on ? otel : {}) },
      command("agent"),
    );
    started.push(mcp, agent);
    return agent;
  };
  const agents: Partial<Record<"reference" | "off" | "on", RunningService>> = {
    off: await pair(false),
    on: await pair(true),
    ...(refDir ? { reference: await pair(false, refDir) } : {}),
  };
  const kinds = Object.keys(agents) as Array<"reference" | "off" | "on">;
  const times: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
  const chat = async (agent: RunningService): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${agent.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
    });
    await res.json();
    if (res.status !== 200) throw new Error(`chat answered ${res.status}`);
    return performance.now() - t0;
  };
  for (const a of Object.values(agents)) for (let i = 0; i < 20; i++) await chat(a); // warm-up
  for (let i = 0; i < turns; i++)
    for (const k of i % 2 ? kinds : [...kinds].reverse()) times[k]!.push(await chat(agents[k]!));
  for (const k of kinds)
    console.log(
      `turn, ${k === "reference" ? "reference bundles" : `tracing ${k}`}: ${summary(times[k]!, "ms")}`,
    );
  console.log(
    `tracing on minus off, medians: ${(pct(times.on!, 50) - pct(times.off!, 50)).toFixed(2)} ms`,
  );
  if (times.reference)
    console.log(
      `tracing off minus reference, medians: ${(pct(times.off!, 50) - pct(times.reference, 50)).toFixed(2)} ms`,
    );
  await Promise.all(started.map((s) => s.stop()));
  await upstream.close();
  await receiver.close();
}

const [what, arg, ref] = process.argv.slice(2);
if (what === "start") await start(Number(arg ?? 15), ref ?? "/tmp/tracing-base");
else if (what === "turn") await turn(Number(arg ?? 200), ref);
else console.error("usage: measure-tracing.ts start [N] [REF_DIR] | turn [TURNS] [REF_DIR]");
