// Shared by both services (bundled into each): hono's body limit, without its cost on the usual
// request.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";

export interface BodyLimitOptions {
  maxSize: number;
  /** The answer to a body over `maxSize` (it may throw, as hono's own onError may). */
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * Refuses request bodies over `maxSize`, as hono's `bodyLimit` does, but reads a declared
 * Content-Length from the header alone. hono's middleware first asks for `c.req.raw.body`: on
 * @hono/node-server that turns the lightweight request into a full web Request with a stream over
 * the socket, for every request, before anything reads the body (the cost is in
 * docs/decisions.md; mcp-server/test/security.test.ts fails when either library stops doing so).
 * Node's HTTP parser ends a body at its Content-Length, so the header is the size; a body without
 * one (chunked) is streamed and counted by hono's middleware.
 */
export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const streamed = honoBodyLimit(options);
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (
      length === undefined ||
      !/^\d+$/.test(length) ||
      c.req.header("transfer-encoding") !== undefined
    )
      return streamed(c, next);
    if (Number(length) > options.maxSize) return options.onError(c);
    await next();
  };
}
