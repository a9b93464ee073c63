// The real Google Cloud Firestore emulator (gcloud emulators firestore start), for tests and benchmarks.
// It needs no network; it starts in ~10 s, so start it once per suite and give each test its own
// project id or collection. `gcloud` forks a java child: the whole process group is stopped.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { freePort } from "./service.js";

export interface FirestoreEmulator {
  /** host:port, the value of FIRESTORE_EMULATOR_HOST. */
  host: string;
  port: number;
  /** Stops the emulator (the gcloud wrapper and its java child). */
  stop(): Promise<void>;
  /** Starts it again on the same port (data is gone: the emulator keeps it in memory). */
  restart(): Promise<void>;
  /** Deletes every document of a project. */
  clear(projectId: string): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and requests hang, as in a stalled network. */
  pause(): void;
  /** Lets it go on (SIGCONT): the requests that waited are answered. */
  resume(): void;
}

export const hasGcloud = (): boolean =>
  spawnSync("gcloud", ["--version"], { stdio: "ignore" }).status === 0;

export async function startFirestoreEmulator(
  opts: { timeoutMs?: number } = {},
): Promise<FirestoreEmulator> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    // detached: its own process group, so one signal reaches gcloud, its shell wrapper and java.
    const p = spawn(
      "gcloud",
      ["emulators", "firestore", "start", `--host-port=${host}`, "--quiet"],
      {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" },
      },
    );
    proc = p;
    // If this process ends without stop() (a test runner killed mid-run), take the emulator with it.
    process.once("exit", () => {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {
        // already stopped
      }
    });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Firestore emulator did not start in time:\n${out}`)),
        opts.timeoutMs ?? 60_000,
      );
      const onData = (c: Buffer): void => {
        out += c.toString();
        if (/Dev App Server is now running/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on("data", onData);
      p.stderr!.on("data", onData);
      p.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`Firestore emulator exited with ${code}:\n${out}`));
      });
    });
    // Keep draining its output so a full pipe never blocks it.
    p.stdout!.resume();
    p.stderr!.resume();
  };

  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p?.pid) return;
    const group = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-p.pid!, signal);
      } catch {
        // the group is gone
      }
    };
    const exited =
      p.exitCode !== null || p.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => p.once("exit", () => r()));
    group("SIGTERM");
    const timer = setTimeout(() => group("SIGKILL"), 5_000);
    await exited;
    // The java child can outlive the gcloud wrapper by a moment: wait for the port, then make sure.
    for (let i = 0; i < 100 && (await listening(port)); i++)
      await new Promise((r) => setTimeout(r, 50));
    clearTimeout(timer);
    group("SIGKILL");
  };

  await start();
  return {
    host,
    port,
    stop,
    restart: start,
    pause: () => process.kill(-proc!.pid!, "SIGSTOP"),
    resume: () => process.kill(-proc!.pid!, "SIGCONT"),
    async clear(projectId) {
      const res = await fetch(
        `http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
        { method: "DELETE" },
      );
      if (!res.ok) throw new Error(`clearing the emulator failed: ${res.status}`);
    },
  };
}

async function listening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

// CLI: node --import tsx test/support/firestore-emulator.ts  → prints {"host": "127.0.0.1:PORT"}, stops on SIGTERM.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const emu = await startFirestoreEmulator();
  console.log(JSON.stringify({ host: emu.host }));
  const stop = (): void => void emu.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
