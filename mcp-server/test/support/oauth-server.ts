// A real authorization server for the OAuth suite: oidc-provider 9 (a certified OpenID provider) on
// loopback, issuing RFC 9068 JWT access tokens for resource indicators (RFC 8707). Configuration
// follows the installed oidc-provider 9.13's lib/helpers/defaults.js (read 2026-12-03) and its
// docs at https://github.com/panva/node-oidc-provider/blob/v9.x/docs/README.md (not read here).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import Provider, { errors } from "oidc-provider";

export const SCOPE = "mcp:tools";
/** A scope the authorization server grants that the MCP server does not require. */
export const OTHER_SCOPE = "profile:read";

export interface OAuthServerOptions {
  /** Resource indicators tokens may be issued for; the first is the default. */
  resources: string[];
  /** Access-token lifetime in seconds. */
  ttlSeconds?: number;
  /**
   * Client ID Metadata Documents by URL, served to the authorization server when a client names one
   * as its client_id (oidc-provider's `fetch` hook: client URLs here resolve to no real host).
   */
  clientMetadataDocuments?: Record<string, Record<string, unknown>>;
}

export interface OAuthServer {
  /** The issuer identifier, exactly as in the tokens' `iss`. */
  issuer: string;
  clientId: string;
  /** A client-credentials access token for `resource` (default: the first) with `scope`. */
  token(opts?: { scope?: string; resource?: string }): Promise<string>;
  /**
   * Signs `login` in at an authorization URL and consents, as a person in a browser would, through
   * oidc-provider's development pages; returns the parameters of the redirect back to the client.
   */
  authorize(url: URL, login?: string): Promise<URLSearchParams>;
  /** JWKS fetches so far. */
  jwksHits(): number;
  /** Signs from now on with a new key (a new kid), still publishing the old one. */
  rotate(): Promise<void>;
  stop(): Promise<void>;
  /** Starts again on the same port (same issuer). */
  start(): Promise<void>;
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

export async function startOAuthServer(opts: OAuthServerOptions): Promise<OAuthServer> {
  const clientId = "mcp-test-client";
  const clientSecret = "a-test-secret-long-enough-for-hs256-0123456789";
  let keys = [await newKey()];
  let hits = 0;
  let port = 0;
  let server: Server | undefined;
  let issuer = "";

  const build = () =>
    new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          grant_types: ["client_credentials"],
          response_types: [],
          redirect_uris: [],
          scope: `${SCOPE} ${OTHER_SCOPE}`,
        },
      ],
      jwks: { keys },
      scopes: ["openid", SCOPE, OTHER_SCOPE],
      // Any client allowed the refresh_token grant gets one (the default asks for offline_access).
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
        client.grantTypeAllowed("refresh_token"),
      fetch: async (url: string | URL, init?: RequestInit) => {
        const document = opts.clientMetadataDocuments?.[String(url)];
        return document ? Response.json(document) : fetch(url, init);
      },
      ttl: {
        AccessToken: opts.ttlSeconds ?? 600,
        ClientCredentials: opts.ttlSeconds ?? 600,
        Interaction: 600,
        Session: 600,
        Grant: 600,
        RefreshToken: 600,
      },
      features: {
        // Its login page takes any name and password: the headless authorization below fills it.
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        registration: { enabled: true },
        clientIdMetadataDocument: {
          enabled: Boolean(opts.clientMetadataDocuments),
          ack: "draft-02",
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => opts.resources[0],
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (!opts.resources.includes(indicator)) throw new errors.InvalidTarget();
            return {
              scope: `${SCOPE} ${OTHER_SCOPE}`,
              audience: indicator,
              accessTokenTTL: opts.ttlSeconds ?? 600,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: "RS256" } },
            };
          },
        },
      },
    });

  const start = async () => {
    // The issuer names the port: known only once listening, so the provider is built after.
    let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    server = createServer((req, res) => {
      if (req.url?.startsWith("/jwks")) hits++;
      handler?.(req, res);
    });
    await new Promise<void>((r) => server!.listen(port, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    issuer = `http://127.0.0.1:${port}`;
    handler = build().callback();
  };
  const stop = () =>
    new Promise<void>((r) => {
      if (!server) return r();
      server.closeAllConnections();
      server.close(() => r());
      server = undefined;
    });

  await start();

  return {
    issuer,
    clientId,
    jwksHits: () => hits,
    async token({ scope = SCOPE, resource = opts.resources[0] } = {}) {
      const body = new URLSearchParams({ grant_type: "client_credentials", scope });
      if (resource) body.set("resource", resource);
      const post = () =>
        fetch(`${issuer}/token`, {
          method: "POST",
          headers: {
            authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
          },
          body,
        });
      // After a restart, a pooled connection to the old server may still look open: once more.
      const res = await post().catch(post);
      const json = (await res.json()) as { access_token?: string };
      if (!res.ok || !json.access_token)
        throw new Error(`token: ${res.status} ${JSON.stringify(json)}`);
      return json.access_token;
    },
    async authorize(url, login = "alice") {
      const jar = new Map<string, string>();
      let next = url;
      let body: URLSearchParams | undefined;
      for (let step = 0; step < 12; step++) {
        if (next.origin !== issuer) return next.searchParams;
        const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
        const res = await fetch(next, {
          method: body ? "POST" : "GET",
          body,
          redirect: "manual",
          headers: { cookie },
        });
        for (const c of res.headers.getSetCookie()) {
          const pair = c.split(";")[0]!;
          jar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
        }
        body = undefined;
        const location = res.headers.get("location");
        if (location) {
          await res.body?.cancel();
          next = new URL(location, next);
          continue;
        }
        const html = await res.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        if (!action)
          throw new Error(`authorize: no form at ${next}: ${res.status} ${html.slice(0, 300)}`);
        body = new URLSearchParams();
        for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
          body.set(m[1]!, m[2]!);
        if (/name="login"/.test(html)) body.set("login", login);
        if (/name="password"/.test(html)) body.set("password", "any");
        next = new URL(action, next);
      }
      throw new Error("authorize: too many steps");
    },
    async rotate() {
      keys = [await newKey(), ...keys];
      await stop();
      await start();
    },
    stop,
    start,
  };
}
