// Starts a bundled service as a real process on an ephemeral port and waits until it listens.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFrankfurter, type FakeFrankfurter } from "./frankfurter.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const bundlePath = (service: "agent" | "mcp-server"): string =>
  path.join(ROOT, service, "dist", `${service}.mjs`);

export interface RunningService {
  url: string;
  port: number;
  proc: ChildProcess;
  logs: () => Array<Record<string, unknown>>;
  output: () => string;
  /** `fetch` against the service, shaped like Hono's `app.request`: one harness drives both. */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startService(
  service: "agent" | "mcp-server",
  env: Record<string, string | undefined>,
  opts: { command?: string[]; timeoutMs?: number } = {},
): Promise<RunningService> {
  const [cmd, ...args] = opts.command ?? [process.execPath, bundlePath(service)];
  const proc = spawn(cmd!, opts.command ? args : [bundlePath(service)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) =>
    proc.once("exit", (code) => resolve(code)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${service} did not start in time:\n${out}`)),
      opts.timeoutMs ?? 15_000,
    );
    let pending = "";
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      pending += chunk.toString();
      const complete = pending.split("\n");
      pending = complete.pop() ?? "";
      for (const line of complete) {
        try {
          const json = JSON.parse(line) as Record<string, unknown>;
          lines.push(json);
          if (typeof json.port === "number" && /listening/.test(String(json.message))) {
            clearTimeout(timer);
            resolve(json.port);
          }
        } catch {
          // not a log line
        }
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${service} exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    logs: () => lines,
    output: () => out,
    request: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The same bundle under Deno 2 (from npm), with the permissions a service needs. */
export function startServiceUnderDeno(
  service: "agent" | "mcp-server",
  env: Record<string, string | undefined>,
): Promise<RunningService> {
  const deno = execFileSync(`${ROOT}/scripts/tools.sh`, ["deno"], { encoding: "utf8" }).trim();
  const permissions = ["--allow-net", "--allow-env", "--allow-read", "--allow-sys"];
  return startService(
    service,
    { ...env, DENO_NO_UPDATE_CHECK: "1" },
    { command: [deno, "run", ...permissions, bundlePath(service)], timeoutMs: 30_000 },
  );
}

export interface Stack {
  upstream: FakeFrankfurter;
  mcp: RunningService;
  agent: RunningService;
  stop(): Promise<void>;
}

/**
 * The whole system as processes: Frankfurter's stand-in, the mcp-server bundle on it and the agent
 * bundle (offline model, under Deno with `deno`) on the mcp-server's /mcp or /sse.
 */
export async function startStack(
  opts: { transport?: "mcp" | "sse"; deno?: boolean } = {},
): Promise<Stack> {
  const upstream = await startFrankfurter();
  const started: RunningService[] = [];
  const stop = async (): Promise<void> => {
    for (const service of started.reverse()) await service.stop();
    await upstream.close();
  };
  try {
    const mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    started.push(mcp);
    const env = {
      MCP_SERVER_URL: `${mcp.url}/${opts.transport ?? "mcp"}`,
      MODEL_PROVIDER: "offline",
    };
    const agent = await (opts.deno ? startServiceUnderDeno : startService)("agent", env);
    started.push(agent);
    return { upstream, mcp, agent, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A port that was free a moment ago, for services that must come back on the same port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs a command from the repository root without blocking this process (stand-ins served from here
 * keep answering): its exit code and its output, stdout and stderr together. Killed at `timeoutMs`.
 */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    p.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    p.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
