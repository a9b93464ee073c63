// Shared by both services: an issuer's signing keys, fetched and cached by jose.
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";

type RemoteOptions = NonNullable<Parameters<typeof createRemoteJWKSet>[1]>;

/**
 * The keys at `url` (cached 6 h, 5 s to fetch them). Only "no key for this kid" (and its ambiguous
 * twin) is about the token and passes through; any other failure to get a key (unreachable, not
 * 200, not JSON, not a key set, a timeout) is the key server's, and becomes `unavailable(err)`:
 * callers answer it with a 503, never a 401.
 */
export function remoteKeys(
  url: string,
  unavailable: (err: unknown) => Error,
  options: RemoteOptions = {},
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: 6 * 3_600_000,
    timeoutDuration: 5_000,
    ...options,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      throw unavailable(err);
    }
  };
}
