import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";

export interface BodyLimitOptions {
  maxSize: number;
  /** The answer to a body over `maxSize` (it may throw, as hono's own onError may). */
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * hono's `bodyLimit`, but a declared Content-Length (which Node's parser holds the body to) is read
 * from the header alone: hono's asks for `c.req.raw.body`, which on @hono/node-server builds a full
 * web Request for every request (docs/decisions.md; mcp-server/test/security.test.ts pins it).
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
