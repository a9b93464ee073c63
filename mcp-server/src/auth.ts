import type { MiddlewareHandler } from "hono";
import { type AuthInfo, OAuthError, OAuthErrorCode } from "@modelcontextprotocol/server";
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { emailKey } from "../../common/email.js";
import { remoteKeys, RETRY_PAUSE_MS } from "../../common/jwks.js";
import { incomingContext } from "../../common/trace.js";
import { ServiceError } from "./errors.js";
import type { Logger } from "../../common/log.js";
import { OAuthUnavailable, type OAuthVerifier } from "./oauth.js";

export const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];
/** The explicit opt-out in MCP_ALLOWED_INVOKERS: accept a valid token from any Google identity. */
export const ANY_GOOGLE_ACCOUNT = "any-google-account";
// The limits google-auth-library's OAuth2Client.verifySignedJwtWithCertsAsync applies (10.x):
// CLOCK_SKEW_SECS_ = 300 and DEFAULT_MAX_TOKEN_LIFETIME_SECS_ = 86400. Google's ID tokens live one
// hour.
export const CLOCK_SKEW_SECONDS = 300;
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

export interface IdTokenVerifierOptions {
  audience: string;
  /**
   * Service-account emails that may call, or [ANY_GOOGLE_ACCOUNT]. An empty list lets nobody in:
   * anyone can mint a Google ID token for any audience, so "no list" must never mean "everyone".
   */
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
      /**
       * `missing_token`: no Authorization at all (RFC 6750 §3.1: the challenge then carries no
       * error); `invalid_request`: an Authorization that is not exactly `Bearer <token>` (another
       * scheme, extra parts, two headers joined by a comma).
       */
      error:
        | "missing_token"
        | "invalid_request"
        | "invalid_token"
        | "forbidden"
        | "keys_unavailable";
      description: string;
    };

export type IdTokenVerifier = (authorization: string | null | undefined) => Promise<AuthResult>;

/**
 * The signing keys could not be had (unreachable, not 200, not a JWKS): our outage, not the
 * caller's token.
 */
class KeysUnavailable extends Error {}

/**
 * Verifies a Google-signed ID token the way Cloud Run's front end does (RS256 signature, `aud`,
 * `iss`,
 * `exp`) and no looser than google-auth-library's verifier (issue time, lifetime,
 * `email_verified`), then the invoker allow-list, for hosts without that front end (compose, GKE,
 * VMs).
 */
export function createIdTokenVerifier(opts: IdTokenVerifierOptions): IdTokenVerifier {
  const unavailable = (err: unknown): KeysUnavailable =>
    new KeysUnavailable(
      err instanceof errors.JWKSTimeout
        ? "Google's signing keys could not be fetched in time"
        : "Google's signing keys could not be fetched",
    );
  const keys =
    opts.keys ??
    remoteKeys(opts.certsUrl ?? "https://www.googleapis.com/oauth2/v3/certs", unavailable, {
      now: opts.now,
    });
  const anyAccount = opts.allowedInvokers.includes(ANY_GOOGLE_ACCOUNT);
  const allowed = new Set(opts.allowedInvokers.map(emailKey));

  return async (authorization) => {
    const token = bearerToken(authorization, "Google ID token");
    if (typeof token !== "string") return token;
    const now = Math.floor((opts.now ? opts.now() : Date.now()) / 1000);
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
      if (err instanceof KeysUnavailable)
        return { ok: false, status: 503, error: "keys_unavailable", description: err.message };
      return {
        ok: false,
        status: statusOf(err),
        error: "invalid_token",
        description: describe(err),
      };
    }
    const iat = payload.iat!;
    const exp = payload.exp!;
    const refuse = (description: string): AuthResult => ({
      ok: false,
      status: 401,
      error: "invalid_token",
      description,
    });
    if (iat > now + CLOCK_SKEW_SECONDS) return refuse("The ID token's iat claim is in the future");
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp > now + MAX_TOKEN_LIFETIME_SECONDS) {
      return refuse("The ID token's lifetime is longer than 24 hours");
    }
    // Google sends a boolean; anything else ("false", "true", 1) is not a verified address.
    if ("email_verified" in payload && payload.email_verified !== true)
      return refuse("The ID token's email_verified claim is not accepted");
    if (payload.email !== undefined && typeof payload.email !== "string")
      return refuse("The ID token's email claim is not accepted");
    const email = typeof payload.email === "string" ? emailKey(payload.email) : undefined;
    if (!anyAccount && (!email || !allowed.has(email))) {
      return {
        ok: false,
        status: 403,
        error: "forbidden",
        description: `${email ?? "caller"} is not an allowed invoker`,
      };
    }
    return { ok: true, email, subject: payload.sub };
  };
}

/**
 * The token of `Authorization: Bearer <token>`, or the refusal: none at all is 401 with no error
 * (RFC 6750 §3.1), anything else (another scheme, extra parts, two headers joined by a comma) 400.
 */
function bearerToken(
  authorization: string | null | undefined,
  what: string,
): string | Extract<AuthResult, { ok: false }> {
  if (!authorization?.trim()) {
    const description = `Missing Authorization: Bearer <${what}>`;
    return { ok: false, status: 401, error: "missing_token", description };
  }
  const token = /^Bearer +([^\s,]+) *$/i.exec(authorization)?.[1];
  if (token) return token;
  const description = `Malformed Authorization: send one header, Bearer <${what}>`;
  return { ok: false, status: 400, error: "invalid_request", description };
}

function statusOf(err: unknown): 401 | 503 {
  // Anything that is not a JOSE verdict on the token is our failure, not the caller's.
  return err instanceof errors.JOSEError ? 401 : 503;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "The ID token has expired";
  if (err instanceof errors.JWTClaimValidationFailed)
    return `The ID token's ${err.claim} claim is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return "The ID token's signature is invalid";
  if (err instanceof errors.JWKSNoMatchingKey)
    return "The ID token is not signed by a known Google key";
  if (err instanceof errors.JOSEAlgNotAllowed) return "The ID token must be signed with RS256";
  if (err instanceof errors.JOSEError) return "The ID token is malformed";
  return "The ID token could not be checked";
}

/** The inbound methods MCP_SERVER_AUTH turned on; a request passes if one of them accepts it. */
export interface AuthMethods {
  google?: IdTokenVerifier | undefined;
  oauth?: OAuthVerifier | undefined;
}

type Verdict =
  | { ok: true; caller: Caller }
  | Extract<AuthResult, { ok: false }>
  | { ok: false; status: 403; error: "insufficient_scope"; description: string };

/**
 * Who a request comes from, as the SDK hands it to tool handlers (`ctx.http.authInfo`):
 * `extra.principal` is the stable id an SSE session is bound to and the tool-call log names.
 */
export type Caller = AuthInfo & { extra: { principal: string } };

/**
 * Which method a token is for, told by its `iss` (never by trying both): a Google ID token
 * to the Google verifier, anything else to the OAuth one.
 */
async function check(authorization: string | undefined, m: AuthMethods): Promise<Verdict> {
  const token = bearerToken(authorization, m.oauth ? "access token" : "Google ID token");
  if (typeof token !== "string") return token;
  const google = async (): Promise<Verdict> => {
    const r = await m.google!(authorization);
    if (!r.ok) return r;
    // The stable id of the account: an email can be reassigned.
    const principal = r.subject ?? r.email ?? "google";
    return { ok: true, caller: { token, clientId: "", scopes: [], extra: { principal } } };
  };
  if (!m.oauth) return google();
  if (m.google) {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {}
    if (typeof iss === "string" && GOOGLE_ISSUERS.includes(iss)) return google();
  }
  try {
    return { ok: true, caller: await m.oauth.verifyAccessToken(token) };
  } catch (err) {
    if (err instanceof OAuthUnavailable) {
      return { ok: false, status: 503, error: "keys_unavailable", description: err.message };
    }
    const code = err instanceof OAuthError ? err.code : "";
    const description =
      err instanceof Error ? err.message : "The access token could not be checked";
    return code === OAuthErrorCode.InsufficientScope
      ? { ok: false, status: 403, error: "insufficient_scope", description }
      : { ok: false, status: 401, error: "invalid_token", description };
  }
}

/**
 * The WWW-Authenticate challenge of a refusal. RFC 6750 §3.1: a request with no credentials gets
 * no error code. With OAuth on, every challenge names the metadata (RFC 9728 §5.1) and the scopes
 * (the MCP spec's step-up). The SDK's bearerAuthChallengeResponse always adds an error, even to a
 * request that sent no token, hence this one.
 */
function challenge(v: Extract<Verdict, { ok: false }>, oauth?: OAuthVerifier): string | undefined {
  if (!oauth) {
    // A 403 of the Google allow-list carries no challenge: more scopes cannot help a caller
    // outside it (a WWW-Authenticate with insufficient_scope sends MCP clients off to ask).
    if (v.status !== 401 && v.status !== 400) return undefined;
    return v.error === "missing_token"
      ? `Bearer realm="mcp-server"`
      : `Bearer realm="mcp-server", error="${v.error}", error_description="${v.description}"`;
  }
  if (v.status === 503 || v.error === "forbidden") return undefined;
  const params = [
    `resource_metadata="${oauth.resourceMetadataUrl}"`,
    `scope="${oauth.scopes.join(" ")}"`,
  ];
  if (v.error !== "missing_token") {
    params.push(`error="${v.error}"`, `error_description="${v.description.replace(/"/g, "'")}"`);
  }
  return `Bearer ${params.join(", ")}`;
}

/**
 * Lets in only callers one of `methods` accepts, and records who (`caller`: the SSE session's
 * owner, and the tool handlers' `ctx.http.authInfo`). A token never reaches a log; the principal
 * does, on each tool call's line.
 */
export function authGuard(
  methods: AuthMethods,
  logger: Logger,
): MiddlewareHandler<{ Variables: { caller?: Caller | undefined } }> {
  return async (c, next) => {
    const result = await check(c.req.header("authorization"), methods);
    if (result.ok) {
      c.set("caller", result.caller);
      return next();
    }
    const fields = { path: c.req.path, status: result.status, reason: result.description };
    // No token at all is how every OAuth sign-in starts (the 401 sends the client to the metadata):
    // routine, not a warning. A token that is refused stays one.
    const severity = result.error === "missing_token" ? "INFO" : "WARNING";
    logger.log(severity, "request refused", fields, incomingContext(c.req.raw.headers));
    // The body was never read: close rather than leave unread bytes on a kept-alive connection.
    const headers: Record<string, string> = { Connection: "close" };
    const value = challenge(result, methods.oauth);
    if (value) headers["WWW-Authenticate"] = value;
    // Our outage: the client may try again soon, with the same token.
    if (result.status === 503) headers["Retry-After"] = String(RETRY_PAUSE_MS / 1000);
    throw new ServiceError(result.status, result.error, result.description, undefined, headers);
  };
}
