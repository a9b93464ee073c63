import { redactText } from "../../../common/redact.js";
import { ServiceError } from "../errors.js";

/** Why an upstream call failed, for the logs (the caller gets a readable message, not this). */
export type UpstreamReason =
  | "refused"
  | "dns"
  | "tls"
  | "reset"
  | "network"
  | "timeout"
  | "status"
  | "too_large"
  | "bad_json"
  | "bad_shape"
  | "busy";

/** An upstream failure worded for the caller; `kind` (also its `code`) tells them apart. */
export class UpstreamError extends ServiceError {
  constructor(
    readonly kind: "not_found" | "invalid" | "unavailable" | "timeout" | "bad_response" | "busy",
    message: string,
    /** The upstream's HTTP status, when it answered. */
    readonly upstreamStatus?: number,
    /** For the log: what went wrong underneath (connection refused, DNS, TLS, timeout, status…). */
    readonly reason?: UpstreamReason,
    detail?: string,
  ) {
    super(kind === "timeout" ? 504 : kind === "busy" ? 503 : 502, kind, message, detail);
  }
}

/**
 * Names the cause of a failed fetch (Node puts the system error in `cause`; Deno in the message).
 */
export function describeNetworkError(err: unknown): { reason: UpstreamReason; detail: string } {
  const parts: string[] = [];
  let code = "";
  for (
    let e: unknown = err, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (e instanceof Error || typeof e === "object") {
      const c = (e as { code?: unknown }).code;
      if (typeof c === "string" && !code) code = c;
      const m = (e as { message?: unknown }).message;
      if (typeof m === "string" && m && !parts.includes(m)) parts.push(m);
    } else {
      parts.push(String(e));
    }
  }
  // Never log a URL's query or credentials.
  const detail = redactText([code, ...parts].filter(Boolean).join(": ")).slice(0, 300);
  const text = `${code} ${parts.join(" ")}`;
  const reason: UpstreamReason = /ECONNREFUSED|refused/i.test(text)
    ? "refused"
    : /ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns|lookup|name resolution|failed to resolve|nodename/i.test(
          text,
        )
      ? "dns"
      : /CERT|TLS|SSL|certificate|handshake|corrupt message/i.test(text)
        ? "tls"
        : /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed|socket|reset|closed/i.test(text)
          ? "reset"
          : "network";
  return { reason, detail: detail || "fetch failed" };
}
