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
import { incomingContext } from "../../common/trace-context.js";
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

/** Whom a Google ID token names; a refusal is a ServiceError (401, 403, or 503 for our outage). */
export type IdTokenVerifier = (
  authorization: string | null | undefined,
) => Promise<{ email: string | undefined; subject: string | undefined }>;

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
  const invalid = (description: string) => new ServiceError(401, "invalid_token", description);

  return async (authorization) => {
    const token = bearerToken(authorization, "Google ID token");
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
      if (err instanceof ServiceError) throw err;
      // Anything that is not a JOSE verdict on the token is our failure, not the caller's.
      const status = err instanceof errors.JOSEError ? 401 : 503;
      throw new ServiceError(status, "invalid_token", idTokenProblem(err));
    }
    const iat = payload.iat!;
    const exp = payload.exp!;
    if (iat > now + CLOCK_SKEW_SECONDS) throw invalid("The ID token's iat claim is in the future");
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp > now + MAX_TOKEN_LIFETIME_SECONDS) {
      throw invalid("The ID token's lifetime is longer than 24 hours");
    }
    // Google sends a boolean; anything else ("false", "true", 1) is not a verified address.
    if ("email_verified" in payload && payload.email_verified !== true) {
      throw invalid("The ID token's email_verified claim is not accepted");
    }
    if (payload.email !== undefined && typeof payload.email !== "string") {
      throw invalid("The ID token's email claim is not accepted");
    }
    const email = typeof payload.email === "string" ? emailKey(payload.email) : undefined;
    if (!anyAccount && (!email || !allowed.has(email))) {
      throw new ServiceError(403, "forbidden", `${email ?? "caller"} is not an allowed invoker`);
    }
    return { email, subject: payload.sub };
  };
}

/**
 * The token of `Authorization: Bearer <token>`. None is 401 `missing_token`, with no error in the
 * challenge (RFC 6750 §3.1); anything else (another scheme, two headers joined) 400.
 */
function bearerToken(authorization: string | null | undefined, what: string): string {
  if (!authorization?.trim()) {
    throw new ServiceError(401, "missing_token", `Missing Authorization: Bearer <${what}>`);
  }
  const token = /^Bearer +([^\s,]+) *$/i.exec(authorization)?.[1];
  if (token) return token;
  const description = `Malformed Authorization: send one header, Bearer <${what}>`;
  throw new ServiceError(400, "invalid_request", description);
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

/** The caller, or a ServiceError; a token goes to the one verifier its `iss` names. */
async function check(authorization: string | undefined, m: AuthMethods): Promise<VerifiedToken> {
  const token = bearerToken(authorization, m.oauth ? "access token" : "Google ID token");
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {}
  if (m.google && (!m.oauth || (typeof iss === "string" && GOOGLE_ISSUERS.includes(iss)))) {
    const { email, subject } = await m.google(authorization);
    // The stable id of the account: an email can be reassigned.
    const principal = subject ?? email ?? "google";
    return { token, clientId: "", scopes: [], extra: { principal } };
  }
  try {
    return await m.oauth!.verifyAccessToken(token, m.resource!);
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    const description =
      err instanceof Error ? err.message : "The access token could not be checked";
    if (err instanceof OAuthError && err.code === OAuthErrorCode.InsufficientScope) {
      throw new ServiceError(403, "insufficient_scope", description);
    }
    throw new ServiceError(401, "invalid_token", description);
  }
}

/**
 * A refusal's challenge: with OAuth, the metadata (RFC 9728 §5.1) and scopes; without a token, no
 * error (RFC 6750 §3.1), which the SDK's bearerAuthChallengeResponse always adds.
 */
function challenge(v: ServiceError, m: AuthMethods): string | undefined {
  if (!m.oauth || !m.resource) {
    // Not on the allow-list's 403: no scope can help, and a challenge sends clients off to ask.
    if (v.status !== 401 && v.status !== 400) return undefined;
    return v.code === "missing_token"
      ? `Bearer realm="mcp-server"`
      : `Bearer realm="mcp-server", error="${v.code}", error_description="${v.publicMessage}"`;
  }
  if (v.status === 503 || v.code === "forbidden") return undefined;
  const params = [
    `resource_metadata="${getOAuthProtectedResourceMetadataUrl(new URL(m.resource))}"`,
    `scope="${m.oauth.scopes.join(" ")}"`,
  ];
  if (v.code !== "missing_token") {
    const description = v.publicMessage.replace(/"/g, "'");
    params.push(`error="${v.code}"`, `error_description="${description}"`);
  }
  return `Bearer ${params.join(", ")}`;
}

/** Lets in callers one of `methods` accepts, as `auth`; the principal is logged, never a token. */
export function authGuard(
  methods: AuthMethods,
  logger: Logger,
): MiddlewareHandler<{ Variables: { auth?: VerifiedToken | undefined } }> {
  return async (c, next) => {
    let auth: VerifiedToken;
    try {
      auth = await check(c.req.header("authorization"), methods);
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const fields = { path: c.req.path, status: err.status, reason: err.publicMessage };
      // No token at all is how every OAuth sign-in starts (the 401 points to the metadata): routine.
      const severity = err.code === "missing_token" ? "INFO" : "WARNING";
      logger.log(severity, "request refused", fields, incomingContext(c.req.raw.headers));
      // The body was never read: close rather than leave unread bytes on a kept-alive connection.
      const headers: Record<string, string> = { Connection: "close" };
      const value = challenge(err, methods);
      if (value) headers["WWW-Authenticate"] = value;
      // Our outage: the client may try again soon, with the same token.
      if (err.status === 503) headers["Retry-After"] = String(RETRY_PAUSE_MS / 1000);
      throw new ServiceError(err.status, err.code, err.publicMessage, { headers });
    }
    c.set("auth", auth);
    return next();
  };
}
