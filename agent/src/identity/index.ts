import { decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { emailKey } from "../../../common/email.js";
import { remoteKeys } from "../../../common/jwks.js";
import { AppError } from "../errors.js";

/**
 * Who may read a conversation depends on who calls (AGENT_ACCESS):
 * - `private`: Cloud Run IAM checked the caller's Google ID token before the request reached the
 *   container; the caller's principal owns its conversations.
 * - `iap`: Identity-Aware Proxy signed in the caller and signs `x-goog-iap-jwt-assertion`, which we
 *   verify; the signed-in user owns their conversations.
 * - `public`: anyone may call; nobody is identified, so a conversation belongs to whoever holds the
 *   random `session_id` the agent issued for it.
 */
export type AgentAccess = "private" | "iap" | "public";

export const IAP_ISSUER = "https://cloud.google.com/iap";
export const IAP_KEYS_URL = "https://www.gstatic.com/iap/verify/public_key-jwk";
// The limits google-auth-library's verifier applies (OAuth2Client, 10.x): 300 s skew, 24 h lifetime.
const CLOCK_SKEW_SECONDS = 300;
const MAX_LIFETIME_SECONDS = 86_400;

/** Who calls: an authenticated principal, or anonymous (`principal` undefined). */
export interface Identity {
  principal: string | undefined;
}

export type Identify = (headers: Headers) => Promise<Identity>;

export interface IdentityOptions {
  access: AgentAccess;
  /** `iap` only: the signed header's expected audience (`/projects/NUMBER/locations/REGION/services/NAME` on Cloud Run). */
  iapAudience?: string | undefined;
  /** `iap` only: IAP's public keys as a JWKS (tests point this at a local stand-in). */
  iapKeysUrl?: string | undefined;
  iapKeys?: JWTVerifyGetKey;
  now?: () => number;
}

export function createIdentify(opts: IdentityOptions): Identify {
  if (opts.access === "public") return async () => ({ principal: undefined });
  if (opts.access === "private")
    return async (headers) => ({ principal: cloudRunPrincipal(headers) });
  return iapIdentify(opts);
}

/**
 * `private`: Cloud Run verified and authorized this ID token before the request got here, so it is
 * decoded, not verified again; sound only on a service without --no-invoker-iam-check. The header
 * is the one Cloud Run checked (X-Serverless-Authorization first, as Cloud Run does), so a second,
 * unchecked one cannot name someone else: https://cloud.google.com/iap/docs/enabling-cloud-run
 */
function cloudRunPrincipal(headers: Headers): string {
  const header = headers.get("x-serverless-authorization") ?? headers.get("authorization") ?? "";
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  let principal: string | undefined;
  try {
    principal = token ? principalOf(decodeJwt(token)) : undefined;
  } catch {
    // not a JWT: nobody is named
  }
  if (principal) return principal;
  throw unauthenticated(
    "This agent is private: call it with Authorization: Bearer <Google ID token> (for example $(gcloud auth print-identity-token))",
  );
}

function iapIdentify(opts: IdentityOptions): Identify {
  if (!opts.iapAudience) throw new Error("AGENT_ACCESS=iap needs IAP_AUDIENCE");
  const unavailable = (): AppError =>
    new AppError(
      503,
      "identity_unavailable",
      "The sign-in check is unavailable right now; try again in a moment",
    );
  const keys = opts.iapKeys ?? remoteKeys(opts.iapKeysUrl ?? IAP_KEYS_URL, unavailable);
  const audience = opts.iapAudience;
  return async (headers) => {
    const assertion = headers.get("x-goog-iap-jwt-assertion");
    if (!assertion) {
      throw unauthenticated(
        "This agent is behind Identity-Aware Proxy: open it through its URL and sign in",
      );
    }
    const now = Math.floor((opts.now ? opts.now() : Date.now()) / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        algorithms: ["ES256"],
        issuer: IAP_ISSUER,
        audience,
        requiredClaims: ["exp", "iat"],
        clockTolerance: 30,
        currentDate: new Date(now * 1000),
      }));
    } catch (err) {
      throw err instanceof AppError ? err : invalidAssertion();
    }
    const iat = payload.iat!;
    const exp = payload.exp!;
    const principal = principalOf(payload);
    if (iat > now + CLOCK_SKEW_SECONDS || exp - iat > MAX_LIFETIME_SECONDS || !principal) {
      throw invalidAssertion();
    }
    return { principal };
  };
}

const unauthenticated = (message: string): AppError =>
  new AppError(401, "unauthenticated", message);
const invalidAssertion = (): AppError =>
  unauthenticated("The Identity-Aware Proxy assertion is not valid: sign in again");

/**
 * The email when there is one (people and service accounts have one), else `sub:` and the stable
 * subject: a subject is the issuer's free-form string, and must not be able to read as someone's email.
 */
function principalOf(claims: Record<string, unknown>): string | undefined {
  if (typeof claims.email === "string" && claims.email && claims.email_verified !== false)
    return emailKey(claims.email);
  if (typeof claims.sub === "string" && claims.sub) return `sub:${claims.sub}`;
  return undefined;
}

export interface ConversationIds {
  userId: string;
  sessionId: string;
}

/**
 * Whose conversation a request continues. An authenticated caller owns its sessions whatever
 * `user_id` says. An anonymous caller continues only an id the store holds, and the agent saves
 * only under ids it issued: a chosen id gets a fresh one, so two clients choosing one id never
 * share (and no secret need be shared between instances, as signed ids would need).
 */
export async function conversationIds(
  caller: Identity,
  requested: { user_id?: string | undefined; session_id?: string | undefined },
  deps: { exists: (ids: ConversationIds) => Promise<boolean>; newSessionId: () => string },
): Promise<ConversationIds> {
  if (caller.principal)
    return { userId: caller.principal, sessionId: requested.session_id ?? deps.newSessionId() };
  const userId = requested.user_id ?? "anonymous";
  if (requested.session_id && (await deps.exists({ userId, sessionId: requested.session_id }))) {
    return { userId, sessionId: requested.session_id };
  }
  return { userId, sessionId: deps.newSessionId() };
}
