import { type JSONRPCErrorResponse, ProtocolErrorCode } from "@modelcontextprotocol/server";

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

export interface ErrorDetails {
  /** For the logs only. */
  detail?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** An upstream failure's cause, for the logs. */
  reason?: UpstreamReason | undefined;
  /** The upstream's HTTP status, when it answered. */
  upstreamStatus?: number | undefined;
}

/**
 * The service's one error type: `publicMessage` is all a client sees. `code` is a JSON-RPC code on
 * the MCP routes or a word elsewhere; in a tool it becomes an `isError` result (tools/define.ts).
 */
export class ServiceError extends Error {
  readonly detail: string | undefined;
  readonly headers: Record<string, string>;
  readonly reason: UpstreamReason | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(
    readonly status: number,
    readonly code: number | string,
    readonly publicMessage: string,
    details: ErrorDetails = {},
  ) {
    super(publicMessage);
    this.name = "ServiceError";
    this.detail = details.detail;
    this.headers = details.headers ?? {};
    this.reason = details.reason;
    this.upstreamStatus = details.upstreamStatus;
  }
}

/** What a failed call to the rates API was: `code` of the ServiceError. */
export type UpstreamKind =
  | "not_found"
  | "invalid"
  | "unavailable"
  | "timeout"
  | "bad_response"
  | "busy";

/** A failure of the rates API, worded for the caller. */
export function upstreamError(
  kind: UpstreamKind,
  message: string,
  details: ErrorDetails = {},
): ServiceError {
  const status = kind === "timeout" ? 504 : kind === "busy" ? 503 : 502;
  return new ServiceError(status, kind, message, details);
}

/** The caller's tool arguments are wrong: said in the tool result, the upstream untouched. */
export const inputError = (message: string): ServiceError =>
  new ServiceError(400, "invalid_input", message);

/** A JSON-RPC `-32000` error on an MCP route (host, size, session and transport refusals). */
export const rpcError = (status: number, message: string, headers?: Record<string, string>) =>
  new ServiceError(status, -32000, message, { headers });

export function errorResponse(err: ServiceError): Response {
  const error = { code: err.code, message: err.publicMessage };
  const body = typeof err.code === "number" ? { jsonrpc: "2.0", error, id: null } : { error };
  return Response.json(body, { status: err.status, headers: err.headers });
}

/** A JSON-RPC id echoed back, or null when the message has none usable. */
export function idOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** A `tools/call` whose `arguments` is no object: -32602 in a sentence, not the SDK's schema dump. */
export function invalidToolArguments(message: unknown): JSONRPCErrorResponse | undefined {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: unknown };
  if (method !== "tools/call" || typeof params !== "object" || params === null) return undefined;
  const args = (params as { arguments?: unknown }).arguments;
  if (args === undefined || (typeof args === "object" && args !== null && !Array.isArray(args))) {
    return undefined;
  }
  const got = args === null ? "null" : Array.isArray(args) ? "an array" : `a ${typeof args}`;
  const text =
    'Invalid params: tools/call "arguments" must be an object of named arguments, ' +
    `such as {"currency_from":"USD"}, not ${got}`;
  const error = { code: ProtocolErrorCode.InvalidParams, message: text };
  return { jsonrpc: "2.0", id: idOf(message), error } as JSONRPCErrorResponse;
}
