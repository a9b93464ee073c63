// `make eval`: runs the eval sets against a running agent (AGENT_URL), or with MODELS=a,b against a
// local agent started once per model, and prints a line per case (a FAIL with the lines that say why)
// and one table. Exits 1 when any case fails, 2 when it could not run. Settings (environment):
//   AGENT_URL    the agent (default http://127.0.0.1:8080); ID_TOKEN: bearer token (scripts/eval.sh
//                takes one from gcloud for an https URL)
//   EVALSET      an *.evalset.json file or a folder of them (default eval/)
//   EVAL_CONFIG  ADK test_config.json with `criteria` (default eval/test_config.json)
//   EVAL_REPORT  folder for the <eval_set_result_id>.evalset_result.json files and summary.json
//                (default .cache/eval)
//   MODELS       comma-separated GOOGLE_MODEL values: each gets its own agent
//                (agent/dist/agent.mjs) on a free port, pointed at MCP_SERVER_URL or at a local
//                mcp-server started here
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  failureLines,
  loadEvalSets,
  parseCriteria,
  progressLine,
  runEvalSet,
  summarise,
  table,
  type EvalSetResult,
  type Prices,
  type SummaryRow,
  type Target,
} from "./harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts a bundle on a free port and waits for /health; its output is kept for the error. */
async function start(
  service: "agent" | "mcp-server",
  extra: Record<string, string>,
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(ROOT, service, "dist", `${service}.mjs`)], {
    env: { ...env, LOG_FORMAT: "json", HOST: "127.0.0.1", PORT: String(port), ...extra },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  proc.stderr!.on("data", (c: Buffer) => (out = (out + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) break;
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(
    `${service} did not start (${Object.entries(extra)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}):\n${out}`,
  );
}

async function modelOf(target: Target): Promise<string> {
  const res = await fetch(`${target.url}/`, {
    headers: {
      accept: "application/json",
      ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
    },
  });
  if (!res.ok) throw new Error(`GET ${target.url}/ answered ${res.status}`);
  return String(((await res.json()) as { model?: unknown }).model ?? "unknown");
}

async function main(): Promise<number> {
  const evalset = env.EVALSET || path.join(ROOT, "eval");
  const configFile = env.EVAL_CONFIG || path.join(ROOT, "eval", "test_config.json");
  const reportDir = env.EVAL_REPORT || path.join(ROOT, ".cache", "eval");
  const sets = loadEvalSets(evalset);
  const criteria = parseCriteria(JSON.parse(readFileSync(configFile, "utf8")));
  const prices = JSON.parse(readFileSync(path.join(ROOT, "eval", "prices.json"), "utf8")) as Prices;
  const models = (env.MODELS ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  const cases = sets.reduce((n, s) => n + s.eval_cases.length, 0);
  const thresholds = Object.entries(criteria)
    .map(([k, c]) => `${k} >= ${c.threshold}${k.startsWith("tool_traj") ? ` ${c.match_type}` : ""}`)
    .join(", ");
  console.log(`eval: ${cases} case(s) from ${evalset}; pass: ${thresholds}`);

  const all: EvalSetResult[] = [];
  const rows: SummaryRow[] = [];
  const runAgainst = async (target: Target, label?: string): Promise<void> => {
    const model = label ?? (await modelOf(target));
    console.log(`eval: ${target.url} (model ${model})`);
    const results: EvalSetResult[] = [];
    for (const set of sets)
      results.push(
        await runEvalSet(target, set, criteria, model, (r) =>
          console.log([progressLine(r), ...failureLines(r, criteria)].join("\n")),
        ),
      );
    all.push(...results);
    rows.push(summarise(results, model, prices));
  };

  if (!models.length) {
    const url = (env.AGENT_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
    await runAgainst({ url, token: env.ID_TOKEN || undefined });
  } else {
    let mcp: ChildProcess | undefined;
    try {
      let mcpUrl = env.MCP_SERVER_URL;
      if (!mcpUrl) {
        const started = await start("mcp-server", {});
        mcp = started.proc;
        mcpUrl = `${started.url}/mcp`;
      }
      for (const model of models) {
        const agent = await start("agent", { GOOGLE_MODEL: model, MCP_SERVER_URL: mcpUrl });
        try {
          await runAgainst({ url: agent.url }, model);
        } finally {
          agent.proc.kill();
        }
      }
    } finally {
      mcp?.kill();
    }
  }

  mkdirSync(reportDir, { recursive: true });
  for (const r of all)
    writeFileSync(
      path.join(reportDir, `${r.eval_set_result_id}.evalset_result.json`),
      `${JSON.stringify(r, null, 2)}\n`,
    );
  writeFileSync(path.join(reportDir, "summary.json"), `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`\n${table(rows)}\n`);
  console.log(`eval: report in ${path.relative(process.cwd(), reportDir) || "."}`);
  const failed = all.flatMap((r) => r.eval_case_results).filter((c) => c.final_eval_status !== 1);
  if (failed.length) {
    console.log(`eval: ${failed.length} case(s) failed`);
    return 1;
  }
  console.log("eval: every case passed");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`eval: ${(err as Error).message ?? err}`);
    process.exit(2);
  },
);
