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
  /** The `aud` tokens carry instead of the resource URL (Entra ID: the API's application id). */
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

/** One verifier for /mcp and /sse; throws OAuthError, or a 503 ServiceError for our outage. */
export interface OAuthVerifier {
  issuer: string;
  scopes: readonly string[];
  /** `resource`: the canonical URL the token must be for (its `aud`, RFC 8707). */
  verifyAccessToken(token: string, resource: string): Promise<VerifiedToken>;
}

/**
 * Who a request comes from (the tools' `ctx.http.authInfo`). `principal` owns SSE sessions: the
 * issuer's subject, or a client in a space of its own (`client:…`), never sharing a user's.
 */
export type VerifiedToken = AuthInfo & { extra: { principal: string } };

/** The issuer's metadata or keys could not be had. */
const unavailable = (message: string): ServiceError =>
  new ServiceError(503, "keys_unavailable", message);

/** Keys over https (RFC 8414 §2), or http on loopback (under test); never data: or plain http. */
function httpsOrLoopback(value: string): boolean {
  const url = URL.parse(value);
  if (!url || url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
}

/** RFC 8414's discovery address (path inserted), then OpenID's (appended), as the MCP spec tries. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, "");
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url).href,
    new URL(`${path}/.well-known/openid-configuration`, url).href,
  ];
}

/** The keys of the first discovery document naming this issuer (RFC 8414 §3.3) and its keys. */
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

/** JWT access tokens (RFC 9068, or plain as Auth0, Entra ID, Keycloak issue): claims, then scopes. */
export function createOAuthVerifier(opts: OAuthVerifierOptions): OAuthVerifier {
  const clock = opts.now ?? Date.now;
  const maxAge = opts.maxTokenAgeSeconds ?? 86_400;
  const { issuer } = opts;
  // One discovery shared by concurrent requests; a failed one stands for RETRY_PAUSE_MS.
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
        throw invalid(accessTokenProblem(err));
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

/** `at+jwt` (RFC 9068) or `JWT`, compared as RFC 7515 §4.1.9 says; others are other JWTs. */
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

/** `scope` is a string; `scp` an array (RFC 9068 §2.2.3) or, from Entra ID, a string. */
function grantedScopes(payload: JWTPayload): string[] {
  const granted = payload.scope ?? payload.scp;
  if (typeof granted === "string") return granted.split(" ").filter(Boolean);
  return Array.isArray(granted) ? granted.filter((s): s is string => typeof s === "string") : [];
}

/**
 * Entra ID asks for `api://APP_ID/mcp:tools` but grants `mcp:tools`: with OAUTH_AUDIENCE (the `aud`
 * showing the API is this one) a required `URI/NAME` is met by NAME; elsewhere scopes match exactly.
 */
function isGranted(required: string, scopes: readonly string[], shortNames: boolean): boolean {
  if (scopes.includes(required)) return true;
  const qualified = shortNames ? /^[a-z][\w+.-]*:\/\/.+\/([^/]+)$/i.exec(required) : null;
  return qualified != null && scopes.includes(qualified[1]!);
}

function accessTokenProblem(err: unknown): string {
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
