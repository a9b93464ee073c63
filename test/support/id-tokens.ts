// Google-style ID tokens signed with a test RSA key, and a JWKS endpoint like
// https://www.googleapis.com/oauth2/v3/certs. Tests only.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";

export interface IdTokenSigner {
  kid: string;
  jwks: { keys: JWK[] };
  sign(claims: Record<string, unknown>, opts?: { expiresInSeconds?: number; kid?: string; issuedAt?: number }): Promise<string>;
}

export async function createIdTokenSigner(): Promise<IdTokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `test-${Math.random().toString(36).slice(2, 10)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return {
    kid,
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

export async function startCertsServer(signer: IdTokenSigner, opts: { port?: number; host?: string } = {}): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/oauth2/v3/certs")) {
      hits++;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=3600" });
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
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
