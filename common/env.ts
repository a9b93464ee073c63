// Shared by both services: the environment parsed once by one schema, into a frozen object.
import type { z } from "zod";

/** Unset and empty variables take the schema's defaults; a bad one stops start-up with its name. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): Readonly<z.infer<S>> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "env"}: ${i.message}`);
    throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  }
  return Object.freeze(parsed.data);
}

/**
 * A port that is taken ends start-up with one line naming the port and the setting that moves it,
 * instead of an EADDRINUSE stack. (make up checks its AGENT_PORT / MCP_PORT before starting.)
 */
export function exitWhenPortInUse(
  server: { on(event: "error", listener: (err: NodeJS.ErrnoException) => void): unknown },
  where: { port: number; host: string },
  logError: (message: string, fields: Record<string, unknown>) => void,
): void {
  server.on("error", (err) => {
    if (err.code !== "EADDRINUSE" && err.code !== "EACCES") throw err;
    const why = err.code === "EADDRINUSE" ? "is already in use" : "needs privileges this process lacks";
    logError(`port ${where.port} on ${where.host} ${why}: set PORT to another port (or stop what holds it)`, { port: where.port, code: err.code });
    process.exit(1);
  });
}
