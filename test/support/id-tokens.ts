// Google-style ID tokens signed with a test RSA key, and a JWKS endpoint like
// https://www.googleapis.com/oauth2/v3/certs. Tests only.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

export interface IdTokenSigner {
  kid: string;
  /** The private key as a JWK, so other processes (containers) can sign with the same key. */
  privateJwk: JWK;
  jwks: { keys: JWK[] };
  sign(
    claims: Record<string, unknown>,
    opts?: { expiresInSeconds?: number; kid?: string; issuedAt?: number },
  ): Promise<string>;
}

export async function createIdTokenSigner(from?: JWK): Promise<IdTokenSigner> {
  let privateJwk: JWK;
  if (from) {
    privateJwk = from;
  } else {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privateJwk = {
      ...(await exportJWK(pair.privateKey)),
      kid: `test-${Math.random().toString(36).slice(2, 10)}`,
      alg: "RS256",
    };
  }
  const kid = privateJwk.kid ?? "test";
  const privateKey = await importJWK(privateJwk, "RS256");
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = privateJwk;
  const jwk = { ...publicPart, kid, alg: "RS256", use: "sig" };
  return {
    kid,
    privateJwk,
    jwks: { keys: [jwk] },
    async sign(claims, opts = {}) {
      const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: "https://accounts.google.com", ...claims })
        .setProtectedHeader({ alg: "RS256", kid: opts.kid ?? kid, typ: "JWT" })
        .setIssuedAt(iat)
        .setExpirationTime(iat + (opts.expiresInSeconds ?? 3600))
        .sign(privateKey);
    },
  };
}

export async function startCertsServer(
  signer: IdTokenSigner,
  opts: { port?: number; host?: string } = {},
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/oauth2/v3/certs")) {
      hits++;
      res.writeHead(200, {
        "content-type": "application/json",
        "cache-control": "public, max-age=3600",
      });
      res.end(JSON.stringify(signer.jwks));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth2/v3/certs`,
    hits: () => hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Identity-Aware Proxy's signed header (`x-goog-iap-jwt-assertion`), as described on
 * https://cloud.google.com/iap/docs/signed-headers-howto (read 2026-11-25): ES256, `kid` naming a key
 * in https://www.gstatic.com/iap/verify/public_key-jwk, `iss` https://cloud.google.com/iap, `aud` the
 * resource (`/projects/NUMBER/locations/REGION/services/NAME` for IAP on a Cloud Run service), `sub`
 * `accounts.google.com:ID`, `email`, `iat` in the past, `exp` in the future (IAP's last ten minutes).
 */
export async function createIapSigner(): Promise<{
  jwks: { keys: JWK[] };
  sign(
    claims: Record<string, unknown>,
    opts?: { alg?: "ES256"; issuedAt?: number; expiresInSeconds?: number; kid?: string },
  ): Promise<string>;
}> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const kid = `iap-${Math.random().toString(36).slice(2, 8)}`;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" };
  return {
    jwks: { keys: [jwk] },
    async sign(claims, opts = {}) {
      const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: "https://cloud.google.com/iap", ...claims })
        .setProtectedHeader({ alg: "ES256", kid: opts.kid ?? kid, typ: "JWT" })
        .setIssuedAt(iat)
        .setExpirationTime(iat + (opts.expiresInSeconds ?? 600))
        .sign(pair.privateKey);
    },
  };
}

/** Serves a JSON body (a JWKS, or something that is not one) at any path, like gstatic does. */
export async function startJsonServer(
  body: () => { status: number; json: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    const { status, json } = body();
    res
      .writeHead(status, {
        "content-type": "application/json",
        "cache-control": "public, max-age=3600",
      })
      .end(json);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/iap/verify/public_key-jwk`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
