import type { MiddlewareHandler } from "hono";
import {
  getOAuthProtectedResourceMetadataUrl,
  OAuthError,
  OAuthErrorCode,
} from "@modelcontextprotocol/server";
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { emailKey } from "../../common/email.js";
import { remoteKeys, RETRY_PAUSE_MS } from "../../common/jwks.js";
import type { Logger } from "../../common/log.js";
import { incomingContext } from "../../common/trace.js";
import { ANY_GOOGLE_ACCOUNT } from "./config.js";
import { ServiceError } from "./errors.js";
import type { OAuthVerifier, VerifiedToken } from "./oauth.js";

const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];
// The limits of google-auth-library's verifier (10.x: CLOCK_SKEW_SECS_ and
// DEFAULT_MAX_TOKEN_LIFETIME_SECS_). Google's ID tokens live one hour.
const CLOCK_SKEW_SECONDS = 300;
const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

export interface IdTokenVerifierOptions {
  audience: string;
  /** Service-account emails that may call, or [ANY_GOOGLE_ACCOUNT]; an empty list admits nobody. */
  allowedInvokers: readonly string[];
  /** JWKS URL with Google's signing keys; jose caches them and refetches on an unknown `kid`. */
  certsUrl?: string;
  keys?: JWTVerifyGetKey;
  now?: () => number;
}

export type AuthResult =
  | { ok: true; email: string | undefined; subject: string | undefined }
  | {
      ok: false;
      status: 400 | 401 | 403 | 503;
      // missing_token: no Authorization (RFC 6750 §3.1); invalid_request: not `Bearer <token>`.
      error:
        | "missing_token"
        | "invalid_request"
        | "invalid_token"
        | "forbidden"
        | "insufficient_scope"
        | "keys_unavailable";
      description: string;
    };
type Refusal = Extract<AuthResult, { ok: false }>;

export type IdTokenVerifier = (authorization: string | null | undefined) => Promise<AuthResult>;

/**
 * A Google ID token, checked as Cloud Run's front end and google-auth-library do, then the invoker
 * list: for hosts without that front end (compose, GKE, VMs).
 */
export function createIdTokenVerifier(opts: IdTokenVerifierOptions): IdTokenVerifier {
  const unavailable = (err: unknown) =>
    new ServiceError(
      503,
      "keys_unavailable",
      err instanceof errors.JWKSTimeout
        ? "Google's signing keys could not be fetched in time"
        : "Google's signing keys could not be fetched",
    );
  const certsUrl = opts.certsUrl ?? "https://www.googleapis.com/oauth2/v3/certs";
  const keys = opts.keys ?? remoteKeys(certsUrl, unavailable, { now: opts.now });
  const anyAccount = opts.allowedInvokers.includes(ANY_GOOGLE_ACCOUNT);
  const allowed = new Set(opts.allowedInvokers.map(emailKey));
  const refuse = (description: string): Refusal => ({
    ok: false,
    status: 401,
    error: "invalid_token",
    description,
  });

  return async (authorization) => {
    const token = bearerToken(authorization, "Google ID token");
    if (typeof token !== "string") return token;
    const now = Math.floor((opts.now ?? Date.now)() / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ["RS256"],
        audience: opts.audience,
        issuer: GOOGLE_ISSUERS,
        requiredClaims: ["exp", "iat"],
        clockTolerance: 30,
        currentDate: new Date(now * 1000),
      }));
    } catch (err) {
      if (err instanceof ServiceError) {
        return { ok: false, status: 503, error: "keys_unavailable", description: err.message };
      }
      // Anything that is not a JOSE verdict on the token is our failure, not the caller's.
      return {
        ...refuse(idTokenProblem(err)),
        status: err instanceof errors.JOSEError ? 401 : 503,
      };
    }
    const iat = payload.iat!;
    const exp = payload.exp!;
    if (iat > now + CLOCK_SKEW_SECONDS) return refuse("The ID token's iat claim is in the future");
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp > now + MAX_TOKEN_LIFETIME_SECONDS) {
      return refuse("The ID token's lifetime is longer than 24 hours");
    }
    // Google sends a boolean; anything else ("false", "true", 1) is not a verified address.
    if ("email_verified" in payload && payload.email_verified !== true) {
      return refuse("The ID token's email_verified claim is not accepted");
    }
    if (payload.email !== undefined && typeof payload.email !== "string") {
      return refuse("The ID token's email claim is not accepted");
    }
    const email = typeof payload.email === "string" ? emailKey(payload.email) : undefined;
    if (!anyAccount && (!email || !allowed.has(email))) {
      const description = `${email ?? "caller"} is not an allowed invoker`;
      return { ok: false, status: 403, error: "forbidden", description };
    }
    return { ok: true, email, subject: payload.sub };
  };
}

/** The token of `Authorization: Bearer <token>`; none is 401 (RFC 6750 §3.1), anything else 400. */
function bearerToken(authorization: string | null | undefined, what: string): string | Refusal {
  if (!authorization?.trim()) {
    const description = `Missing Authorization: Bearer <${what}>`;
    return { ok: false, status: 401, error: "missing_token", description };
  }
  const token = /^Bearer +([^\s,]+) *$/i.exec(authorization)?.[1];
  if (token) return token;
  const description = `Malformed Authorization: send one header, Bearer <${what}>`;
  return { ok: false, status: 400, error: "invalid_request", description };
}

function idTokenProblem(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "The ID token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `The ID token's ${err.claim} claim is not accepted`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return "The ID token's signature is invalid";
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return "The ID token is not signed by a known Google key";
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "The ID token must be signed with RS256";
  if (err instanceof errors.JOSEError) return "The ID token is malformed";
  return "The ID token could not be checked";
}

/** The inbound methods MCP_SERVER_AUTH turned on; a request passes if one of them accepts it. */
export interface AuthMethods {
  google?: IdTokenVerifier | undefined;
  oauth?: OAuthVerifier | undefined;
  /** The route's canonical URL, the resource (RFC 8707) its access tokens must be for. */
  resource?: string | undefined;
}

/** The caller, or why not; a token goes to the one verifier its `iss` names, never to both. */
async function check(
  authorization: string | undefined,
  m: AuthMethods,
): Promise<{ ok: true; auth: VerifiedToken } | Refusal> {
  const token = bearerToken(authorization, m.oauth ? "access token" : "Google ID token");
  if (typeof token !== "string") return token;
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {}
  if (m.google && (!m.oauth || (typeof iss === "string" && GOOGLE_ISSUERS.includes(iss)))) {
    const r = await m.google(authorization);
    if (!r.ok) return r;
    // The stable id of the account: an email can be reassigned.
    const principal = r.subject ?? r.email ?? "google";
    return { ok: true, auth: { token, clientId: "", scopes: [], extra: { principal } } };
  }
  try {
    return { ok: true, auth: await m.oauth!.verifyAccessToken(token, m.resource!) };
  } catch (err) {
    if (err instanceof ServiceError) {
      return { ok: false, status: 503, error: "keys_unavailable", description: err.message };
    }
    if (err instanceof OAuthError && err.code === OAuthErrorCode.InsufficientScope) {
      return { ok: false, status: 403, error: "insufficient_scope", description: err.message };
    }
    const description =
      err instanceof Error ? err.message : "The access token could not be checked";
    return { ok: false, status: 401, error: "invalid_token", description };
  }
}

/**
 * A refusal's challenge: with OAuth, the metadata (RFC 9728 §5.1) and scopes; without a token, no
 * error (RFC 6750 §3.1), which the SDK's bearerAuthChallengeResponse always adds.
 */
function challenge(v: Refusal, m: AuthMethods): string | undefined {
  if (!m.oauth || !m.resource) {
    // Not on the allow-list's 403: no scope can help, and a challenge sends clients off to ask.
    if (v.status !== 401 && v.status !== 400) return undefined;
    return v.error === "missing_token"
      ? `Bearer realm="mcp-server"`
      : `Bearer realm="mcp-server", error="${v.error}", error_description="${v.description}"`;
  }
  if (v.status === 503 || v.error === "forbidden") return undefined;
  const params = [
    `resource_metadata="${getOAuthProtectedResourceMetadataUrl(new URL(m.resource))}"`,
    `scope="${m.oauth.scopes.join(" ")}"`,
  ];
  if (v.error !== "missing_token") {
    params.push(`error="${v.error}"`, `error_description="${v.description.replace(/"/g, "'")}"`);
  }
  return `Bearer ${params.join(", ")}`;
}

/** Lets in callers one of `methods` accepts, as `auth`; the principal is logged, never a token. */
export function authGuard(
  methods: AuthMethods,
  logger: Logger,
): MiddlewareHandler<{ Variables: { auth?: VerifiedToken | undefined } }> {
  return async (c, next) => {
    const result = await check(c.req.header("authorization"), methods);
    if (result.ok) {
      c.set("auth", result.auth);
      return next();
    }
    const fields = { path: c.req.path, status: result.status, reason: result.description };
    // No token at all is how every OAuth sign-in starts (the 401 points to the metadata): routine.
    const severity = result.error === "missing_token" ? "INFO" : "WARNING";
    logger.log(severity, "request refused", fields, incomingContext(c.req.raw.headers));
    // The body was never read: close rather than leave unread bytes on a kept-alive connection.
    const headers: Record<string, string> = { Connection: "close" };
    const value = challenge(result, methods);
    if (value) headers["WWW-Authenticate"] = value;
    // Our outage: the client may try again soon, with the same token.
    if (result.status === 503) headers["Retry-After"] = String(RETRY_PAUSE_MS / 1000);
    throw new ServiceError(result.status, result.error, result.description, { headers });
  };
}
