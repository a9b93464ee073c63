import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";

export const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];

export interface IdTokenVerifierOptions {
  audience: string;
  allowedInvokers: readonly string[];
  /** JWKS URL with Google's signing keys; jose caches them and refetches on an unknown `kid`. */
  certsUrl?: string;
  keys?: JWTVerifyGetKey;
  now?: () => number;
}

export type AuthResult =
  | { ok: true; email: string | undefined; subject: string | undefined }
  | { ok: false; status: 401 | 403 | 503; error: string; description: string };

export type IdTokenVerifier = (authorization: string | null | undefined) => Promise<AuthResult>;

/**
 * Verifies a Google-signed ID token the way Cloud Run's front end does (RS256 signature, `aud`, `iss`,
 * `exp`), then the invoker allow-list, for hosts without that front end (compose, GKE, VMs).
 */
export function createIdTokenVerifier(opts: IdTokenVerifierOptions): IdTokenVerifier {
  const keys = opts.keys ?? createRemoteJWKSet(new URL(opts.certsUrl ?? "https://www.googleapis.com/oauth2/v3/certs"), {
    cacheMaxAge: 6 * 3_600_000,
    timeoutDuration: 5_000,
  });
  const allowed = new Set(opts.allowedInvokers.map((e) => e.toLowerCase()));

  return async (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) {
      return { ok: false, status: 401, error: "invalid_request", description: "Missing Authorization: Bearer <Google ID token>" };
    }
    try {
      const { payload } = await jwtVerify(match[1], keys, {
        algorithms: ["RS256"],
        audience: opts.audience,
        issuer: GOOGLE_ISSUERS,
        requiredClaims: ["exp", "iat"],
        clockTolerance: 30,
        ...(opts.now ? { currentDate: new Date(opts.now()) } : {}),
      });
      const email = typeof payload.email === "string" ? payload.email.toLowerCase() : undefined;
      if (allowed.size > 0 && (!email || !allowed.has(email) || payload.email_verified === false)) {
        return { ok: false, status: 403, error: "insufficient_scope", description: `${email ?? "caller"} is not an allowed invoker` };
      }
      return { ok: true, email, subject: payload.sub };
    } catch (err) {
      return { ok: false, status: statusOf(err), error: "invalid_token", description: describe(err) };
    }
  };
}

function statusOf(err: unknown): 401 | 503 {
  // Signing keys that cannot be fetched are our outage, not the caller's bad token.
  return err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError)) ? 503 : 401;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "The ID token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `The ID token's ${err.claim} claim is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "The ID token's signature is invalid";
  if (err instanceof errors.JWKSNoMatchingKey) return "The ID token is not signed by a known Google key";
  if (err instanceof errors.JOSEAlgNotAllowed) return "The ID token must be signed with RS256";
  if (err instanceof errors.JWKSTimeout) return "Google's signing keys could not be fetched in time";
  if (err instanceof errors.JOSEError) return "The ID token is malformed";
  return "Google's signing keys could not be fetched";
}
