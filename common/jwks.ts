// Shared by both services: an issuer's signing keys, fetched and cached by jose.
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";
import { readCapped } from "./capped-body.js";

/**
 * The bound on a key set or an issuer's metadata document: a few kilobytes in practice (Google's
 * keys ~2 KB, a set with x5c certificate chains tens of KB). A hostile issuer's endless body stops
 * here, not at the heap's limit.
 */
export const AUTH_DOCUMENT_MAX_BYTES = 1024 * 1024;
/** The time bound on fetching one, body included. */
export const AUTH_DOCUMENT_TIMEOUT_MS = 5_000;
/**
 * A failed fetch of keys or metadata is not tried again for this long: requests meanwhile get the
 * same 503 (whose Retry-After says as much) instead of each sending more requests to an ailing
 * server.
 */
export const RETRY_PAUSE_MS = 5_000;
export interface RemoteKeysOptions {
  /** How often an unknown `kid` may refetch (jose's cooldownDuration; its default 30 s). */
  cooldownMs?: number | undefined;
  /** The global fetch otherwise. */
  fetch?: typeof fetch | undefined;
  now?: (() => number) | undefined;
}

/** A fetch not sent: the last one failed less than RETRY_PAUSE_MS ago. */
class Paused extends Error {}

/**
 * The keys at `url` (cached 6 h, AUTH_DOCUMENT_TIMEOUT_MS and AUTH_DOCUMENT_MAX_BYTES to fetch
 * them). Only "no key for this kid" (and its ambiguous twin) is about the token and passes through;
 * any other failure to get a key (unreachable, not 200, not JSON, not a key set, too large, a
 * timeout) is the key server's, and becomes `unavailable(err)`: callers answer it with a 503, never
 * a 401. After such a failure no fetch is sent for RETRY_PAUSE_MS (jose's own cooldown follows only
 * a fetch that worked, so every request would fetch again); keys jose holds still verify meanwhile.
 */
export function remoteKeys(
  url: string,
  unavailable: (err: unknown) => Error,
  options: RemoteKeysOptions = {},
): JWTVerifyGetKey {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  let pausedUntil = 0;
  const remote = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: 6 * 3_600_000,
    timeoutDuration: AUTH_DOCUMENT_TIMEOUT_MS,
    ...(options.cooldownMs !== undefined ? { cooldownDuration: options.cooldownMs } : {}),
    // jose reads the body with res.json(): it gets one already read, within the bound (and a
    // status other than 200, which it refuses unread, without a body).
    [customFetch]: async (href, init) => {
      if (now() < pausedUntil) throw new Paused("the last fetch of the keys failed moments ago");
      const res = await doFetch(href, init);
      if (res.status !== 200) {
        await res.body?.cancel();
        return new Response(null, { status: res.status });
      }
      const body = await readCapped(res, AUTH_DOCUMENT_MAX_BYTES);
      return new Response(body, { status: 200, headers: res.headers });
    },
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      if (!(err instanceof Paused)) pausedUntil = now() + RETRY_PAUSE_MS;
      throw unavailable(err);
    }
  };
}
