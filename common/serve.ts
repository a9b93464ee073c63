// Serves a built service on Node until SIGTERM, then drains it and leaves.
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import type { Logger } from "./log.js";

export interface Service {
  app: { fetch: (req: Request) => Response | Promise<Response> };
  /** What is open right now, for the "shutting down" line. */
  status(): Record<string, unknown>;
  /** Lets work in flight finish until `deadline` (ms since the epoch); what it returns is logged. */
  drain(deadline: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Cloud Run sends SIGTERM, then kills the instance 10 s later: drain for 8 s, close, exit. */
export const DRAIN_MS = 8_000;

/** Listens until SIGTERM or SIGINT, then drains, closes and exits 0; a taken port is one line. */
export function serveUntilSignal(
  service: Service,
  opts: {
    name: string;
    port: number;
    hostname: string;
    logger: Logger;
    fields: Record<string, unknown>;
  },
): void {
  const { name, port, hostname, logger } = opts;
  const server = serve({ fetch: service.app.fetch, port, hostname }, (info) =>
    logger.log("INFO", `${name} listening on http://${hostname}:${info.port}`, {
      port: info.port,
      ...opts.fields,
    }),
  ) as Server;
  server.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE" && err.code !== "EACCES") throw err;
    const why =
      err.code === "EADDRINUSE" ? "is already in use" : "needs privileges this process lacks";
    logger.log(
      "ERROR",
      `port ${port} on ${hostname} ${why}: set PORT to another port (or stop what holds it)`,
      { port, code: err.code },
    );
    process.exit(1);
  });
  // A promise a client library rejects with nobody listening must not take down the work in flight.
  process.on("unhandledRejection", (reason) =>
    logger.log("ERROR", "unhandled promise rejection", { detail: String(reason) }),
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log("INFO", `${signal}: shutting down`, service.status());
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    const drained = await service.drain(Date.now() + DRAIN_MS);
    // Answers written at the deadline leave before the remaining sockets are cut.
    await Promise.race([closed, sleep(500)]);
    server.closeAllConnections();
    await service.close();
    logger.log("INFO", "stopped", drained);
    process.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void stop(signal));
}

/** Work in flight (turns, requests), so that a drain can wait for it. */
export class Inflight {
  count = 0;
  #idle: Array<() => void> = [];

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await fn();
    } finally {
      if (--this.count === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Resolves once nothing is in flight, or at `deadline` (ms since the epoch), whichever is first. */
  idle(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wait = deadline - Date.now();
      const timer = Number.isFinite(wait) ? setTimeout(resolve, Math.max(0, wait)) : undefined;
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Parses the configuration, or logs what is wrong (naming the variable) and exits 1. */
export function configOrExit<C>(load: () => C, logger: Logger): C {
  try {
    return load();
  } catch (err) {
    logger.log("ERROR", (err as Error).message);
    process.exit(1);
  }
}
