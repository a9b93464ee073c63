// The one error type of the agent, and what may leave the service: public answers name no internal
// address, logs carry no URL credentials or query.
import { HTTPException } from "hono/http-exception";
import { isClientAbort } from "../../common/http.js";
import { redactText, URL_RE } from "../../common/redact.js";

export type ErrorStatus = 400 | 401 | 403 | 413 | 415 | 500 | 502 | 503;

/**
 * A failure the client can act on: `status` and `code` are what it gets, `publicMessage` says what
 * failed and what to do. `detail` is for the logs only. `message` (what a log or a model reads) is the
 * detail when there is one.
 */
export class AppError extends Error {
  readonly detail: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    readonly publicMessage: string,
    opts: { detail?: string | undefined; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(opts.detail ?? publicMessage);
    this.name = "AppError";
    this.detail = opts.detail;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  /** What a client reads: `{code, message}`, the shape of every error answer and event. */
  get body(): { code: string; message: string } {
    return { code: this.code, message: this.publicMessage };
  }
}

/** Any thrown value as the AppError the client gets; unknown failures are a 500 with no detail shown. */
export function toAppError(err: unknown, signal?: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException && err.status === 413) {
    return new AppError(413, "payload_too_large", "The request body is too large");
  }
  // The client cut or garbled its body (Node has already answered 400) or went away: not our error.
  if (isClientAbort(err, signal)) {
    return new AppError(400, "body_unreadable", "The request body could not be read");
  }
  const detail = redactText(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return new AppError(500, "internal", "Internal error; see the service logs", { detail });
}

/** Text for a public answer: no URL, no host:port, no IP address. */
export function publicText(text: string): string {
  return text
    .replace(/\s+at\s+[a-z][a-z0-9+.-]*:\/\/[^\s)"'<>]+/gi, "")
    .replace(URL_RE, "the server")
    .replace(/\[[0-9a-f:.]+\](?::\d+)?/gi, "an internal address")
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, "an internal address")
    .replace(/\b[a-z0-9][a-z0-9.-]*:\d{2,5}\b/gi, "an internal address");
}

/**
 * An MCP failure as the client sees it: what failed and what to do, never the server's internal
 * address or the transport's raw error (both stay in `detail`, for the logs).
 */
export function mcpError(status: 502 | 503, detail: string): AppError {
  if (status === 502) return new AppError(502, "mcp_unavailable", publicText(detail), { detail });
  const what = /did not answer in time/.test(detail)
    ? "The MCP server did not answer in time"
    : "The MCP server cannot be reached";
  const publicMessage = `${what}: try again in a moment; if it persists, the agent's logs name the cause (check MCP_SERVER_URL and the MCP server's health)`;
  return new AppError(503, "mcp_unavailable", publicMessage, { detail });
}
