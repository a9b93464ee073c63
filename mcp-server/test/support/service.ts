// The mcp-server built in process by its factory, for suites that are not about the process itself.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { FetchLike } from "@modelcontextprotocol/client";
import { createMcpService, type McpService, type Overrides } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../../common/log.js";
import { handle } from "../../../test/support/frankfurter.js";

/** The Frankfurter stand-in's answers as a `fetch`, with `extra` fields the real API might add. */
export function upstreamFetch(extra: Record<string, unknown> = {}): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const { status, body } = handle(url.pathname, url.searchParams);
    const add = status === 200 && !Array.isArray(body) && typeof body === "object";
    return Response.json(add ? { ...body, ...extra } : body, { status });
  }) as typeof fetch;
}

/** A Frankfurter that accepts every request and never answers (until the caller aborts). */
export const hangingFetch = (async (_input: unknown, init?: RequestInit) =>
  new Promise<Response>((_, reject) => {
    init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
  })) as typeof fetch;

export interface TestService extends McpService {
  /** The JSON log lines written so far. */
  lines: string[];
  /** The app as a `fetch` for SDK client transports. */
  appFetch: FetchLike;
}

/**
 * Builds the service from `env` (Frankfurter v1 at a stand-in by default), logging into `lines`.
 */
export async function buildService(
  env: Record<string, string> = {},
  over: Overrides = {},
): Promise<TestService> {
  const lines: string[] = [];
  const config = loadConfig({ FRANKFURTER_URL: "http://frankfurter.test/v1", ...env });
  const service = await createMcpService(config, {
    logger: createLogger({}, (l) => lines.push(l)),
    fetch: upstreamFetch(),
    ...over,
  });
  const appFetch: FetchLike = async (url, init) => service.app.fetch(new Request(url, init));
  return Object.assign(service, { lines, appFetch });
}

export interface ListeningService {
  url: string;
  service: TestService;
  /** The log lines written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The service on a real socket (port 0), talking to the real network: for HTTP-level suites. */
export async function listenService(env: Record<string, string> = {}): Promise<ListeningService> {
  const service = await buildService(env, { fetch: globalThis.fetch });
  const server = serve({ fetch: service.app.fetch, port: 0, hostname: "127.0.0.1" });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    logs: () => service.lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      server.close();
      await service.drain(Date.now() + 1_000);
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await service.close();
    },
  };
}

/**
 * A JSON-RPC answer from /mcp, sent as JSON or as SSE events (one message, or a batch's answers
 * one event each): either is a valid answer to a client that accepts both.
 */
export async function readRpc(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) return JSON.parse(text);
  const events = text.split("\n").filter((l) => l.startsWith("data: "));
  const messages = events.map((l) => JSON.parse(l.slice(6)) as unknown);
  return messages.length === 1 ? messages[0] : messages.flat();
}
