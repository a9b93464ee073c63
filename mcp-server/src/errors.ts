/**
 * The service's one error type. `publicMessage` is all a client ever sees; `detail` goes to the
 * logs.
 * `code` is a JSON-RPC error code on the MCP routes (the body is a JSON-RPC error) or a word
 * elsewhere (the body is `{"error":{"code","message"}}`). Tool failures are not thrown this far:
 * they become tool results with `isError` (tools/define.ts).
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | string,
    readonly publicMessage: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(publicMessage);
    this.name = new.target.name;
  }
}

/** A JSON-RPC `-32000` error on an MCP route (host, size, session and transport refusals). */
export const rpcError = (status: number, message: string, headers?: Record<string, string>) =>
  new ServiceError(status, -32000, message, undefined, headers);

export function errorResponse(err: ServiceError): Response {
  const error = { code: err.code, message: err.publicMessage };
  const body = typeof err.code === "number" ? { jsonrpc: "2.0", error, id: null } : { error };
  return Response.json(body, { status: err.status, headers: err.headers });
}
