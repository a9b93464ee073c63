/// <reference path="../../../bench/autocannon.d.ts" />
// A short /mcp tools/call throughput run per protocol era (issue 9: "the bench must not get
// slower"). Usage: node --import tsx mcp-server/test/support/bench-eras.ts [seconds] [connections]
// Starts the mcp-server bundle (or BUNDLE=path) against the Frankfurter stand-in; prints req/s per
// era as JSON.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { freePort, ROOT } from "../../../test/support/service.js";

const SECONDS = Number(process.argv[2] ?? 3);
const CONNECTIONS = Number(process.argv[3] ?? 16);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 1);
const procs: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The server's own CPU time (user + system, in ms): on a shared machine req/s swings with the
// neighbours' load, CPU per request much less.
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

function launch(args: string[], env: Record<string, string>): ChildProcess {
  const p = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", ...env },
    stdio: "ignore",
  });
  procs.push(p);
  return p;
}
async function until(url: string, init?: RequestInit): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (
      await fetch(url, init).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(20);
  }
  throw new Error(`${url} never answered`);
}

const args = { currency_from: "USD", currency_to: "EUR", amount: 100 };
const eras = {
  // A 2025-era client after its initialize: the version header and a plain request.
  "2025-11-25": {
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "get_exchange_rate", arguments: args },
    },
  },
  // 2026-07-28: no handshake, the version and capabilities ride in each request's _meta, routing
  // headers set.
  "2026-07-28": {
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/call",
      "mcp-name": "get_exchange_rate",
    },
    body: {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name: "get_exchange_rate",
        arguments: args,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
    },
  },
};

try {
  const fport = await freePort();
  launch(
    ["--import", "tsx", path.join(ROOT, "test/support/frankfurter.ts"), "--port", String(fport)],
    {},
  );
  await until(`http://127.0.0.1:${fport}/v1/currencies`);
  const port = await freePort();
  const server = launch([process.env.BUNDLE ?? path.join(ROOT, "mcp-server/dist/mcp-server.mjs")], {
    PORT: String(port),
    FRANKFURTER_URL: `http://127.0.0.1:${fport}/v1`,
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  await until(`http://127.0.0.1:${port}/health`);
  const out: Record<string, unknown> = {};
  for (const [era, { headers, body }] of Object.entries(eras)) {
    const probe = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await probe.text();
    if (!probe.ok || !text.includes('"structuredContent"')) {
      out[era] = { refused: probe.status, body: text.slice(0, 200) };
      continue;
    }
    // A fresh process: the JIT warms up on a first run that is not counted, so the era measured
    // first is not charged for it.
    await autocannon({
      url,
      connections: CONNECTIONS,
      duration: WARMUP,
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const cpu0 = cpuMs(server.pid!);
    const r = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const cpu = cpuMs(server.pid!) - cpu0;
    const total = r.requests.average * SECONDS;
    out[era] = {
      rps: Math.round(r.requests.average),
      server_cpu_us_per_call: Math.round((cpu * 1000) / total),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
    };
  }
  console.log(
    JSON.stringify({ node: process.version, seconds: SECONDS, connections: CONNECTIONS, ...out }),
  );
} finally {
  for (const p of procs) p.kill("SIGKILL");
}
