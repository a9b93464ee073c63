import type { FetchLike } from "@modelcontextprotocol/client";
import type { GoogleAuth, IdTokenClient } from "google-auth-library";

/**
 * The header provider: a fetch that adds `Authorization: Bearer <Google ID token>` for `audience` to
 * every request the MCP transport makes (the SSE GET and each POST). The token comes from the metadata
 * server on Cloud Run (or a service account key / impersonation elsewhere); google-auth-library caches
 * it and refreshes it before its one-hour expiry. Nothing is fetched until the first request.
 */
export function createIdTokenFetch(
  audience: string,
  opts: { auth?: () => GoogleAuth; baseFetch?: FetchLike } = {},
): FetchLike {
  const baseFetch = opts.baseFetch ?? fetch;
  let client: Promise<IdTokenClient> | undefined;
  return async (url, init) => {
    // The library is loaded on first use: nothing happens at import time, and the offline,
    // unauthenticated set-up never pays for it.
    client ??= (
      opts.auth
        ? Promise.resolve(opts.auth())
        : import("google-auth-library").then((m) => new m.GoogleAuth())
    ).then((auth) => auth.getIdTokenClient(audience));
    let auth: Headers;
    try {
      auth = await (await client).getRequestHeaders();
    } catch (err) {
      // No client or no token: the next request tries anew.
      client = undefined;
      throw new Error(
        `Could not get a Google ID token for audience ${audience} (${(err as Error).message?.slice(0, 200)}). ` +
          "On Cloud Run it comes from the service's account; locally, user credentials cannot mint ID tokens: " +
          "use `make proxy` (gcloud run services proxy) or service-account impersonation.",
      );
    }
    const headers = new Headers(init?.headers);
    for (const [name, value] of auth) headers.set(name, value);
    return baseFetch(url, { ...init, headers });
  };
}
