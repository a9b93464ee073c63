import {
  type AuthInfo,
  type AuthorizationServerMetadata,
  OAuthError,
  OAuthErrorCode,
  type OAuthProtectedResourceMetadata,
} from "@modelcontextprotocol/server";
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { BodyTooLarge, readCapped } from "../../common/capped-body.js";
import { isLoopback } from "../../common/host-guard.js";
import {
  AUTH_DOCUMENT_MAX_BYTES,
  AUTH_DOCUMENT_TIMEOUT_MS,
  RETRY_PAUSE_MS,
  remoteKeys,
} from "../../common/jwks.js";
import { ServiceError } from "./errors.js";

/** Clock skew granted on `exp`, `nbf` and `iat` (RFC 9068 §4 leaves it to the resource server). */
export const OAUTH_CLOCK_SKEW_SECONDS = 60;
/** An unknown `kid` refetches the issuer's JWKS at most this often (a rotation is seen within it). */
export const JWKS_COOLDOWN_MS = 60_000;
/** Asymmetric algorithms only: an `HS256` token would be signed with a secret we do not hold. */
const ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

export interface OAuthVerifierOptions {
  /** The authorization server's issuer identifier, exactly as in its tokens' `iss`. */
  issuer: string;
  /**
   * The `aud` tokens carry instead, for an authorization server that cannot put the resource URL
   * there (Entra ID: the API's application id).
   */
  audience?: string | undefined;
  /** Scopes every call needs. */
  scopes: readonly string[];
  /** The oldest `iat` accepted, and the longest lifetime (`exp` − `iat`); a day by default. */
  maxTokenAgeSeconds?: number;
  now?: () => number;
  jwksCooldownMs?: number;
  /** For the discovery document and the JWKS; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/**
 * One verifier for every resource this server is (/mcp and /sse): one discovery, one key cache. It
 * throws OAuthError (invalid_token, insufficient_scope), or a 503 ServiceError when the issuer's
 * metadata or keys cannot be had: our outage, never a verdict on the caller's token.
 */
export interface OAuthVerifier {
  issuer: string;
  scopes: readonly string[];
  /** `resource`: the canonical URL the token must be for (its `aud`, RFC 8707). */
  verifyAccessToken(token: string, resource: string): Promise<VerifiedToken>;
}

/**
 * Who a request comes from, as the SDK hands it to tool handlers (`ctx.http.authInfo`).
 * `principal` is whom SSE sessions belong to: scoped by issuer, the subject, or for a token with no
 * `sub` its client, in a space of its own (`client:…`), so no client can share a user's sessions.
 */
export type VerifiedToken = AuthInfo & { extra: { principal: string } };

/** The issuer's metadata or keys could not be had. */
const unavailable = (message: string): ServiceError =>
  new ServiceError(503, "keys_unavailable", message);

/**
 * Where keys and metadata may come from: https (RFC 8414 §2 requires it of jwks_uri), or http on
 * loopback (an authorization server under test). Anything else (http across a network, where keys
 * can be swapped on the way; data:, whose keys are whatever the document says) is refused.
 */
function httpsOrLoopback(value: string): boolean {
  const url = URL.parse(value);
  if (!url || url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
}

/**
 * The two discovery documents an issuer may publish, in the order the MCP spec has clients try them:
 * RFC 8414 (the well-known segment inserted before the issuer's path), then OpenID Discovery
 * (appended to it).
 */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, "");
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url).href,
    new URL(`${path}/.well-known/openid-configuration`, url).href,
  ];
}

/**
 * The issuer's keys, by its discovery document: the first of `discoveryUrls` that answers 200 and
 * names this issuer (RFC 8414 §3.3: else it is not its own) and an https `jwks_uri`.
 */
async function discoverKeys(opts: OAuthVerifierOptions, now: () => number) {
  const doFetch = opts.fetch ?? globalThis.fetch;
  let lastProblem = "no discovery document";
  for (const url of discoveryUrls(opts.issuer)) {
    let res: Response;
    let body = "";
    try {
      // The time bound covers the body too: the signal aborts its stream.
      const signal = AbortSignal.timeout(AUTH_DOCUMENT_TIMEOUT_MS);
      res = await doFetch(url, { headers: { accept: "application/json" }, signal });
      if (res.ok) body = await readCapped(res, AUTH_DOCUMENT_MAX_BYTES);
      else await res.body?.cancel();
    } catch (err) {
      throw unavailable(
        err instanceof BodyTooLarge
          ? `the authorization server's metadata is over ${err.max} bytes`
          : "the authorization server's metadata could not be fetched",
      );
    }
    if (res.status >= 500) {
      throw unavailable(`the authorization server's metadata answered ${res.status}`);
    }
    const meta = parseObject(body) as Partial<AuthorizationServerMetadata>;
    const jwks = meta.jwks_uri;
    if (!res.ok) lastProblem = `${url} answered ${res.status}`;
    else if (meta.issuer !== opts.issuer) {
      lastProblem = `${url} names issuer ${String(meta.issuer).slice(0, 200)}`;
    } else if (typeof jwks !== "string" || !httpsOrLoopback(jwks)) {
      lastProblem = `${url} names no https jwks_uri`;
    } else {
      const keysUnavailable = () =>
        unavailable("the authorization server's signing keys could not be fetched");
      const cooldownMs = opts.jwksCooldownMs ?? JWKS_COOLDOWN_MS;
      return remoteKeys(jwks, keysUnavailable, { cooldownMs, fetch: doFetch, now });
    }
  }
  throw unavailable(`the authorization server's metadata is unusable: ${lastProblem}`);
}

/**
 * Verifies JWT access tokens (RFC 9068, and plain JWTs as Auth0, Entra ID and Keycloak issue them)
 * against the issuer's JWKS: signature, `iss` exact, `aud` containing the resource, `exp`/`nbf`,
 * then the required scopes from `scope` or `scp`.
 */
export function createOAuthVerifier(opts: OAuthVerifierOptions): OAuthVerifier {
  const clock = opts.now ?? Date.now;
  const maxAge = opts.maxTokenAgeSeconds ?? 86_400;
  const { issuer } = opts;
  // One discovery shared by concurrent requests; a failed one stands for RETRY_PAUSE_MS, then the
  // next request tries again.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  let retryAt = 0;
  const getKeys = (): Promise<JWTVerifyGetKey> => {
    if (!keys || (retryAt && clock() >= retryAt)) {
      retryAt = 0;
      keys = discoverKeys(opts, clock).catch((err: unknown) => {
        retryAt = clock() + RETRY_PAUSE_MS;
        throw err;
      });
    }
    return keys;
  };
  const invalid = (description: string) => new OAuthError(OAuthErrorCode.InvalidToken, description);

  return {
    issuer,
    scopes: opts.scopes,
    async verifyAccessToken(token, resource) {
      // A foreign issuer's token is refused before any key lookup: it must not make us refetch.
      let claims: JWTPayload;
      let typ: unknown;
      try {
        claims = decodeJwt(token);
        typ = decodeProtectedHeader(token).typ;
      } catch {
        throw invalid("The access token is not a JWT");
      }
      if (claims.iss !== issuer) throw invalid("The access token is from another issuer");
      if (typ !== undefined && !isAccessTokenType(typ)) {
        throw invalid("The access token's typ is not an access token's (at+jwt or JWT)");
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await getKeys(), {
          issuer,
          audience: opts.audience ?? resource,
          requiredClaims: ["exp"],
          // Requires iat, and refuses one older than maxAge or later than now (with the skew).
          maxTokenAge: maxAge,
          clockTolerance: OAUTH_CLOCK_SKEW_SECONDS,
          currentDate: new Date(clock()),
          algorithms: ALGORITHMS,
        }));
      } catch (err) {
        if (err instanceof ServiceError) throw err;
        throw invalid(describe(err));
      }
      // jose bounds iat only: a token issued now could otherwise claim to be good for centuries.
      if (payload.exp! - payload.iat! > maxAge) {
        throw invalid(`The access token's lifetime is longer than ${maxAge} seconds`);
      }
      const scopes = grantedScopes(payload);
      const missing = opts.scopes.filter((s) => !isGranted(s, scopes, opts.audience !== undefined));
      if (missing.length) {
        const description = `The access token lacks the scope ${missing.join(" ")}`;
        throw new OAuthError(OAuthErrorCode.InsufficientScope, description);
      }
      const clientId = [payload.client_id, payload.azp].find((v) => typeof v === "string") ?? "";
      const sub = typeof payload.sub === "string" && payload.sub ? payload.sub : undefined;
      if (!sub && !clientId) throw invalid("The access token names no subject (sub) or client");
      const principal = sub ? `${issuer}#${sub}` : `client:${issuer}#${clientId}`;
      const expiresAt = payload.exp;
      return {
        token,
        clientId,
        scopes,
        expiresAt,
        resource: new URL(resource),
        extra: { principal },
      };
    },
  };
}

/**
 * An access token's header `typ`, compared as RFC 7515 §4.1.9 says (case-insensitive, `application/`
 * optional): RFC 9068's `at+jwt`, or the plain `JWT` Auth0, Entra ID and Keycloak write. Any other
 * (`dpop+jwt`, `logout+jwt`, an ID token's) marks a JWT made for something else.
 */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  return ["at+jwt", "jwt"].includes(typ.toLowerCase().replace(/^application\//, ""));
}

/** A JSON object, or an empty one for anything else: the checks that follow name what is missing. */
function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * `scope` (RFC 9068, Auth0, Okta, Keycloak) is a string; `scp` is an array (RFC 9068 §2.2.3 allows it)
 * or, from Entra ID, a space-separated string.
 */
function grantedScopes(payload: JWTPayload): string[] {
  const granted = payload.scope ?? payload.scp;
  if (typeof granted === "string") return granted.split(" ").filter(Boolean);
  return Array.isArray(granted) ? granted.filter((s): s is string => typeof s === "string") : [];
}

/**
 * Entra ID names a scope by its API (`api://APP_ID/mcp:tools`, what clients must ask for, so what
 * OAUTH_SCOPES advertises) but puts only the short name in `scp`. Where tokens carry such an
 * OAUTH_AUDIENCE, a required `URI/NAME` is met by NAME, the `aud` having shown the API is this one;
 * elsewhere scopes match exactly.
 */
function isGranted(required: string, scopes: readonly string[], shortNames: boolean): boolean {
  if (scopes.includes(required)) return true;
  const qualified = shortNames ? /^[a-z][\w+.-]*:\/\/.+\/([^/]+)$/i.exec(required) : null;
  return qualified != null && scopes.includes(qualified[1]!);
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "The access token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    return err.claim === "aud"
      ? "The access token was not issued for this server (aud)"
      : `The access token's ${err.claim} claim is not accepted`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return "The access token's signature is invalid";
  if (err instanceof errors.JWKSNoMatchingKey)
    return "The access token is not signed by a key of its issuer";
  if (err instanceof errors.JOSEAlgNotAllowed)
    return "The access token's algorithm is not accepted";
  return "The access token is malformed";
}

/** RFC 9728 Protected Resource Metadata for the one resource this server is. */
export function protectedResourceMetadata(
  verifier: Pick<OAuthVerifier, "issuer" | "scopes">,
  resource: string,
  documentation?: string,
): OAuthProtectedResourceMetadata {
  return {
    resource,
    authorization_servers: [verifier.issuer],
    scopes_supported: [...verifier.scopes],
    bearer_methods_supported: ["header"],
    resource_name: "Exchange rates (Frankfurter) MCP server",
    ...(documentation ? { resource_documentation: documentation } : {}),
  };
}
