import type { MiddlewareHandler } from "hono";

/** Every answer, errors and the SDK's included: no client may guess a type other than the declared. */
export const nosniff: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("X-Content-Type-Options", "nosniff");
};

/** The client cut or garbled its body (Node: "aborted", ECONNRESET) or went away: a 4xx, not a 500. */
export function isClientAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return (
    err instanceof Error &&
    (err.message === "aborted" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE")
  );
}
