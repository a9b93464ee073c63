// Cold start and memory where Cloud Run users pay for them: in the image, on its Node 22.
// `docker run` → first 200 on /health → first answered request, against a bare node:http image on the
// same base (bench/floor.Dockerfile); then the container's memory from its own cgroup, idle. Images are
// built by scripts/bench.sh; runs are interleaved (floor, service, floor, …) so drift hits all alike.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ContainerCase {
  label: string;
  image: string;
  env: Record<string, string>;
  /** The first request that does real work (tools/call, /chat); /health when absent. */
  firstUse?: (base: string) => () => Promise<boolean>;
}
export interface ContainerResult {
  label: string;
  image: string;
  health: number[];
  use: number[];
  /** CPU time the container used until its first answered request (cgroup), ms: steadier than wall
   * time on a busy machine, and what an instance's CPU allocation has to deliver before it serves */
  cpu: number[];
  /** cgroup memory usage minus inactive file cache (what `docker stats` shows), MB */
  workingSet: number[];
  /** cgroup anonymous memory (heap, stacks: what the process allocated), MB */
  anon: number[];
}

export function dockerReady(images: string[]): boolean {
  try {
    execFileSync("docker", ["image", "inspect", ...images], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** CPU time used by the container's processes so far, from its cgroup (v1 or v2), ms; NaN when unreadable. */
function cgroupCpuMs(id: string): number {
  for (const f of [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ]) {
    try {
      return Number(readFileSync(f, "utf8")) / 1e6;
    } catch {
      // not this layout
    }
  }
  for (const dir of [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/docker/${id}`,
  ]) {
    try {
      return Number(/usage_usec (\d+)/.exec(readFileSync(`${dir}/cpu.stat`, "utf8"))![1]) / 1e3;
    } catch {
      // not this layout
    }
  }
  return NaN;
}

/** The container's memory from its cgroup (v1 or v2, as the host mounts it), else from `docker stats`. */
async function cgroupMemory(id: string): Promise<{ workingSet: number; anon: number }> {
  const MB = 1024 * 1024;
  const stat = (text: string): Map<string, number> =>
    new Map(
      text
        .trim()
        .split("\n")
        .map((l) => {
          const [k, v] = l.split(" ");
          return [k!, Number(v)];
        }),
    );
  for (const dir of [
    `/sys/fs/cgroup/memory/docker/${id}`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    `/sys/fs/cgroup/docker/${id}`,
  ]) {
    try {
      const s = stat(readFileSync(`${dir}/memory.stat`, "utf8"));
      if (s.has("total_inactive_file")) {
        const usage = Number(readFileSync(`${dir}/memory.usage_in_bytes`, "utf8"));
        return {
          workingSet: (usage - s.get("total_inactive_file")!) / MB,
          anon: s.get("total_rss")! / MB,
        };
      }
      const current = Number(readFileSync(`${dir}/memory.current`, "utf8"));
      return {
        workingSet: (current - (s.get("inactive_file") ?? 0)) / MB,
        anon: (s.get("anon") ?? NaN) / MB,
      };
    } catch {
      // not this layout
    }
  }
  const { stdout } = await run("docker", ["stats", "--no-stream", "--format", "{{.MemUsage}}", id]);
  const m = /([\d.]+)\s*(KiB|MiB|GiB)/.exec(stdout)!;
  return {
    workingSet: Number(m[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as "MiB"],
    anon: NaN,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    // Every 5 ms: finer polling would take CPU from the container being measured (2 cores).
    await sleep(5);
  }
  throw new Error("timed out waiting");
}
const health = (base: string) => async () => (await fetch(`${base}/health`)).ok;

/**
 * One cold start of each case per round, `rounds` times. Host networking: no port publishing proxy
 * in the path, the same for every image; PORT picks the port. `idleMs` after the first answered
 * request the memory is read.
 */
export async function containerColdStarts(
  cases: ContainerCase[],
  rounds: number,
  freePort: () => Promise<number>,
  idleMs = 1000,
): Promise<ContainerResult[]> {
  const results = cases.map(
    (c) =>
      ({
        label: c.label,
        image: c.image,
        health: [],
        use: [],
        cpu: [],
        workingSet: [],
        anon: [],
      }) as ContainerResult,
  );
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const env = Object.entries({ ...c.env, PORT: String(port), HOST: "127.0.0.1" }).flatMap(
        ([k, v]) => ["-e", `${k}=${v}`],
      );
      const t0 = performance.now();
      const started = run("docker", ["run", "-d", "--rm", "--network", "host", ...env, c.image]);
      let id = "";
      try {
        await until(health(base));
        results[i]!.health.push(performance.now() - t0);
        await until((c.firstUse ?? health)(base));
        results[i]!.use.push(performance.now() - t0);
        id = (await started).stdout.trim();
        results[i]!.cpu.push(cgroupCpuMs(id));
        await sleep(idleMs);
        const mem = await cgroupMemory(id);
        results[i]!.workingSet.push(mem.workingSet);
        results[i]!.anon.push(mem.anon);
      } finally {
        id ||= (await started.catch(() => ({ stdout: "" }))).stdout.trim();
        if (id) await run("docker", ["rm", "-f", id]).catch(() => undefined);
      }
    }
  }
  return results;
}
