// The A2A doors (CONVENTIONS 24): the card and one JSON-RPC endpoint for v1.0 and v0.3. The A2A SDK
// behind them is loaded on the first request to one of them (./sdk.ts), so an agent nobody calls
// over A2A never loads it (CONVENTIONS 23).
import type { Hono } from "hono";
import { bodyLimit } from "../../../common/body-limit.js";
import type { HttpDeps } from "../http/index.js";
import type { AgentAccess } from "../identity/index.js";
import { createA2a } from "./index.js";

export const A2A_PATH = "/a2a";
export const CARD_PATH = "/.well-known/agent-card.json";

export interface A2aSettings {
  /** A2A_PUBLIC_URL: the agent's URL as callers reach it; else taken from each request. */
  publicUrl: string | undefined;
  version: string;
  /** AGENT_ACCESS: the card declares the token a private or IAP agent's caller must send. */
  access: AgentAccess;
}

export function mountA2a(app: Hono, deps: HttpDeps, settings: A2aSettings, maxBytes: number): void {
  let doors: ReturnType<typeof createA2a> | undefined;
  const ready = (): ReturnType<typeof createA2a> => {
    doors ??= createA2a(deps, settings);
    // A failed load is tried again by the next request rather than remembered.
    doors.catch(() => (doors = undefined));
    return doors;
  };
  app.get(CARD_PATH, async (c) => (await ready()).card(c));
  const limit = bodyLimit({
    maxSize: maxBytes,
    // A JSON-RPC error, as every other refusal on this endpoint: -32600 Invalid Request.
    onError: (c) =>
      c.json({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: `The request body must be at most ${maxBytes} bytes` },
      }),
  });
  app.post(A2A_PATH, limit, async (c) => (await ready()).rpc(c));
}
