import { redactText } from "../../../common/redact.js";
import type { UpstreamReason } from "../errors.js";

/** The first pattern the error's codes and messages match names the reason; else "network". */
const REASONS: ReadonlyArray<[UpstreamReason, RegExp]> = [
  ["refused", /ECONNREFUSED|refused/i],
  ["dns", /ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns|lookup|name resolution|failed to resolve|nodename/i],
  ["tls", /CERT|TLS|SSL|certificate|handshake|corrupt message/i],
  ["reset", /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed|socket|reset|closed/i],
];

/**
 * Names the cause of a failed fetch (Node puts the system error in `cause`; Deno in the message).
 */
export function describeNetworkError(err: unknown): { reason: UpstreamReason; detail: string } {
  const parts: string[] = [];
  let code = "";
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++, e = (e as { cause?: unknown }).cause) {
    if (typeof e !== "object") {
      parts.push(String(e));
      continue;
    }
    const { code: c, message: m } = e as { code?: unknown; message?: unknown };
    if (typeof c === "string" && !code) code = c;
    if (typeof m === "string" && m && !parts.includes(m)) parts.push(m);
  }
  const text = `${code} ${parts.join(" ")}`;
  const reason = REASONS.find(([, pattern]) => pattern.test(text))?.[0] ?? "network";
  // Never log a URL's query or credentials.
  const detail = redactText([code, ...parts].filter(Boolean).join(": ")).slice(0, 300);
  return { reason, detail: detail || "fetch failed" };
}
