// An issuer's signing keys, fetched and cached by jose, within bounds in bytes and time.
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from "jose";
import { readCapped } from "./capped-body.js";

/** A key set or metadata document (a few KB; tens with x5c chains): a hostile one stops here. */
export const AUTH_DOCUMENT_MAX_BYTES = 1024 * 1024;
export const AUTH_DOCUMENT_TIMEOUT_MS = 5_000;
/** After a failed fetch, requests get the same 503 for this long instead of fetching again. */
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
 * The keys at `url`, cached 6 h. Only "no key for this kid" (or two) is the token's fault and passes
 * through; any other failure is the key server's and becomes `unavailable(err)` (a 503, never a
 * 401), and pauses fetching for RETRY_PAUSE_MS (jose's cooldown follows only a fetch that worked).
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
    // jose gets a body already read within the bound, or a status it refuses without one.
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
