// The OAuth resource server against a real authorization server (oidc-provider on loopback).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type CallToolResult,
  type FetchLike,
  type OAuthClientProvider,
} from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport as V1SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { UnauthorizedError as V1UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { OAuthError, OAuthErrorCode } from "@modelcontextprotocol/server";
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { createIdTokenSigner, type IdTokenSigner } from "../../test/support/id-tokens.js";
import { RETRY_PAUSE_MS } from "../../common/jwks.js";
import { loadConfig } from "../src/config.js";
import { ServiceError } from "../src/errors.js";
import { createOAuthVerifier, OAUTH_CLOCK_SKEW_SECONDS, discoveryUrls } from "../src/oauth.js";
import { OTHER_SCOPE, type OAuthServer, SCOPE, startOAuthServer } from "./support/oauth-server.js";
import { buildService, type TestService } from "./support/service.js";

const RESOURCE = "http://localhost/mcp";
/** The verifier's refusal when the issuer's metadata or keys cannot be had: our outage. */
const keysUnavailable = (e: unknown) => e instanceof ServiceError && e.code === "keys_unavailable";
const OTHER_RESOURCE = "http://localhost/elsewhere/mcp";
const METADATA = "http://localhost/.well-known/oauth-protected-resource/mcp";
/** The legacy SSE endpoint is a resource of its own, the /mcp resource's sibling. */
const SSE_RESOURCE = "http://localhost/sse";
const SSE_METADATA = "http://localhost/.well-known/oauth-protected-resource/sse";
/** A client known by its Client ID Metadata Document (the 2026-07-28 spec's preferred registration). */
const CLIENT_URL = "https://client.example/oauth-client.json";
const AUDIENCE = "https://mcp-server.example.run.app";
const AGENT = "agent@p.iam.gserviceaccount.com";

function env(issuer: string, auth = "google-id-token,oauth"): Record<string, string> {
  return {
    MCP_SERVER_AUTH: auth,
    OAUTH_ISSUER: issuer,
    MCP_RESOURCE_URL: RESOURCE,
    ...(auth.includes("google-id-token")
      ? { MCP_AUTH_AUDIENCE: AUDIENCE, MCP_ALLOWED_INVOKERS: AGENT }
      : {}),
  };
}

const rpc = (id: number, method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

/** A 2025-era tools/list on /mcp with `authorization`, answered as JSON. */
function listTools(service: TestService, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-11-25",
  };
  if (authorization !== undefined) headers.authorization = authorization;
  return Promise.resolve(
    service.app.request("/mcp", { method: "POST", headers, body: rpc(1, "tools/list") }),
  );
}

function challengeOf(res: Response): Record<string, string> {
  const value = res.headers.get("www-authenticate") ?? "";
  assert.match(value, /^Bearer /);
  return Object.fromEntries([...value.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

describe("MCP_SERVER_AUTH and the OAuth settings", () => {
  it("takes a list, and needs the issuer and resource URL named when oauth is in it", () => {
    const base = { OAUTH_ISSUER: "https://id.example.com", MCP_RESOURCE_URL: RESOURCE };
    assert.equal(loadConfig({ ...base, MCP_SERVER_AUTH: "oauth" }).MCP_SERVER_AUTH, "oauth");
    const both = loadConfig({
      ...env("https://id.example.com"),
      MCP_SERVER_AUTH: "oauth, google-id-token",
    });
    assert.equal(both.MCP_SERVER_AUTH, "google-id-token,oauth");
    assert.deepEqual(both.OAUTH_SCOPES, ["mcp:tools"]);
    assert.throws(() => loadConfig({ MCP_SERVER_AUTH: "oauth,none" }), /MCP_SERVER_AUTH/);
    assert.throws(() => loadConfig({ MCP_SERVER_AUTH: "oauth" }), /OAUTH_ISSUER.*MCP_RESOURCE_URL/);
    assert.throws(
      () =>
        loadConfig({ ...base, MCP_SERVER_AUTH: "oauth", OAUTH_ISSUER: "http://id.example.com" }),
      /OAUTH_ISSUER: must be https/,
    );
    assert.throws(
      () =>
        loadConfig({
          ...base,
          MCP_SERVER_AUTH: "oauth",
          MCP_RESOURCE_URL: "http://mcp.example/mcp",
        }),
      /MCP_RESOURCE_URL: must be https/,
    );
    const loopback = { MCP_SERVER_AUTH: "oauth", OAUTH_ISSUER: "http://127.0.0.1:9/" };
    assert.equal(
      loadConfig({ ...loopback, MCP_RESOURCE_URL: RESOURCE }).OAUTH_ISSUER,
      "http://127.0.0.1:9/",
    );
  });

  it("looks for RFC 8414 metadata (path inserted) before OpenID discovery (path appended)", () => {
    assert.deepEqual(discoveryUrls("https://id.example.com/tenant/1"), [
      "https://id.example.com/.well-known/oauth-authorization-server/tenant/1",
      "https://id.example.com/tenant/1/.well-known/openid-configuration",
    ]);
    assert.deepEqual(discoveryUrls("https://id.example.com/"), [
      "https://id.example.com/.well-known/oauth-authorization-server",
      "https://id.example.com/.well-known/openid-configuration",
    ]);
  });
});

describe("the verifier with issuers oidc-provider does not imitate", () => {
  // An issuer with a path that publishes RFC 8414 metadata; keys and metadata from a fake fetch.
  const issuer = "https://id.example.com/tenant";
  async function setUp(
    meta: Record<string, unknown>,
    options: {
      audience?: string;
      now?: () => number;
      maxTokenAgeSeconds?: number;
      status?: number;
      scopes?: string[];
      pair?: Awaited<ReturnType<typeof generateKeyPair>>;
      keysStatus?: () => number;
      jwksCooldownMs?: number;
    } = {},
  ) {
    const { privateKey, publicKey } = options.pair ?? (await generateKeyPair("RS256"));
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
    const asked: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      asked.push(url);
      if (url === "https://id.example.com/.well-known/oauth-authorization-server/tenant")
        return Response.json(meta, { status: options.status ?? 200 });
      // The keys at any scheme and host: what is refused is refused by the verifier, not here.
      if (url.startsWith("data:")) return globalThis.fetch(url);
      if (new URL(url).pathname === "/keys") {
        const status = options.keysStatus?.() ?? 200;
        if (status !== 200) return Response.json({ error: "backend" }, { status });
        return Response.json({ keys: [jwk] });
      }
      return new Response("not found", { status: 404 });
    }) as typeof globalThis.fetch;
    const oauth = createOAuthVerifier({
      issuer,
      scopes: options.scopes ?? [SCOPE],
      fetch,
      audience: options.audience,
      now: options.now,
      jwksCooldownMs: options.jwksCooldownMs,
      maxTokenAgeSeconds: options.maxTokenAgeSeconds,
    });
    const verifier = { verifyAccessToken: (t: string) => oauth.verifyAccessToken(t, RESOURCE) };
    // Issued now for five minutes unless `claims` say otherwise (an undefined claim is left out).
    const sign = (claims: Record<string, unknown>, header: { kid?: string; typ?: string } = {}) => {
      const iat = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: RESOURCE, sub: "u1", iat, exp: iat + 300, ...claims })
        .setProtectedHeader({ alg: "RS256", kid: "k1", typ: "JWT", ...header })
        .sign(privateKey);
    };
    return { verifier, sign, asked };
  }

  it("finds RFC 8414 metadata at the path-inserted address, and reads Entra's scp string", async () => {
    const { verifier, sign, asked } = await setUp({
      issuer,
      jwks_uri: "https://id.example.com/keys",
    });
    const info = await verifier.verifyAccessToken(await sign({ scp: `${SCOPE} other`, azp: "c1" }));
    assert.deepEqual(info.scopes, [SCOPE, "other"]);
    assert.equal(info.clientId, "c1");
    assert.deepEqual(
      await verifier.verifyAccessToken(await sign({ scp: [SCOPE] })).then((i) => i.scopes),
      [SCOPE],
    );
    assert.equal(asked[0], "https://id.example.com/.well-known/oauth-authorization-server/tenant");
    await assert.rejects(
      verifier.verifyAccessToken(await sign({ scope: "other" })),
      /lacks the scope mcp:tools/,
    );
  });

  it("takes OAUTH_AUDIENCE (Entra's application id) as the aud, and Entra's scope names", async () => {
    // An Entra v2 token's aud: the API's application id.
    const appId = "6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e";
    const { verifier, sign } = await setUp(
      { issuer, jwks_uri: "https://id.example.com/keys" },
      { audience: appId },
    );
    const info = await verifier.verifyAccessToken(await sign({ aud: appId, scp: SCOPE }));
    assert.equal(info.resource?.href, RESOURCE);
    await assert.rejects(verifier.verifyAccessToken(await sign({ scp: SCOPE })), /\(aud\)/);
    assert.equal(
      loadConfig({ ...env("https://id.example.com", "oauth"), OAUTH_AUDIENCE: appId })
        .OAUTH_AUDIENCE,
      appId,
    );
    // Entra: clients ask for api://APP_ID/mcp:tools (what the metadata advertises); scp says mcp:tools.
    const entra = await setUp(
      { issuer, jwks_uri: "https://id.example.com/keys" },
      { audience: appId, scopes: [`api://${appId}/${SCOPE}`] },
    );
    const granted = await entra.verifier.verifyAccessToken(
      await entra.sign({ aud: appId, scp: SCOPE }),
    );
    assert.deepEqual(granted.scopes, [SCOPE]);
    await assert.rejects(
      entra.verifier.verifyAccessToken(await entra.sign({ aud: appId, scp: "tools" })),
      /lacks the scope api:\/\/6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e\/mcp:tools/,
    );
    // Without OAUTH_AUDIENCE, scopes match exactly.
    const exact = await setUp(
      { issuer, jwks_uri: "https://id.example.com/keys" },
      { scopes: [`https://id.example.com/scopes/${SCOPE}`] },
    );
    await assert.rejects(
      exact.verifier.verifyAccessToken(await exact.sign({ scope: SCOPE })),
      /lacks the scope https:\/\/id\.example\.com\/scopes\/mcp:tools/,
    );
    assert.throws(() => loadConfig({ OAUTH_AUDIENCE: "a b" }), /OAUTH_AUDIENCE: must be one/);
  });

  it("keeps a failed discovery for a few seconds instead of asking again on every request", async () => {
    let now = Date.now();
    const meta = { issuer, jwks_uri: "https://id.example.com/keys" };
    const { verifier, sign, asked } = await setUp(meta, { now: () => now, status: 500 });
    const token = await sign({ scope: SCOPE });
    await assert.rejects(verifier.verifyAccessToken(token), keysUnavailable);
    await assert.rejects(verifier.verifyAccessToken(token), keysUnavailable);
    assert.equal(asked.length, 1, "the second request within the pause asked nobody");
    now += RETRY_PAUSE_MS;
    await assert.rejects(verifier.verifyAccessToken(token), keysUnavailable);
    assert.equal(asked.length, 2);
  });

  it("refuses tokens issued ahead, too old or too long-lived, typed for something else, or naming nobody", async () => {
    const meta = { issuer, jwks_uri: "https://id.example.com/keys" };
    const { verifier, sign } = await setUp(meta);
    const now = Math.floor(Date.now() / 1000);
    const day = 86_400;
    // Each with the scope it needs, so that only the one thing named is wrong.
    const withScope = (claims: Record<string, unknown>, header?: { typ?: string }) =>
      sign({ scope: SCOPE, ...claims }, header);
    const refused: Array<[string, Promise<string>, RegExp]> = [
      ["iat a day ahead", withScope({ iat: now + day, exp: now + day + 300 }), /iat claim/],
      ["exp in the year 3000", withScope({ exp: Date.UTC(3000, 0, 1) / 1000 }), /lifetime/],
      ["iat two days ago", withScope({ iat: now - 2 * day, exp: now + 300 }), /expired/],
      ["no iat", withScope({ iat: undefined }), /iat claim/],
      ["typ dpop+jwt", withScope({}, { typ: "dpop+jwt" }), /typ/],
      ["typ logout+jwt", withScope({}, { typ: "logout+jwt" }), /typ/],
      ["typ application/logout+jwt", withScope({}, { typ: "application/logout+jwt" }), /typ/],
      ["no sub and no client", withScope({ sub: undefined }), /names no subject/],
    ];
    for (const [name, token, description] of refused) {
      await assert.rejects(
        verifier.verifyAccessToken(await token),
        (e: unknown) =>
          e instanceof OAuthError &&
          e.code === OAuthErrorCode.InvalidToken &&
          description.test(e.message),
        name,
      );
    }
    for (const typ of ["at+jwt", "application/at+jwt", "JWT", "AT+JWT", undefined])
      await verifier.verifyAccessToken(await sign({ scope: SCOPE }, { typ }));
    // OAUTH_MAX_TOKEN_AGE_SECONDS: a day unless set.
    assert.equal(loadConfig({}).OAUTH_MAX_TOKEN_AGE_SECONDS, 86_400);
    assert.throws(
      () => loadConfig({ OAUTH_MAX_TOKEN_AGE_SECONDS: "0" }),
      /OAUTH_MAX_TOKEN_AGE_SECONDS/,
    );
    const hourly = await setUp(meta, { maxTokenAgeSeconds: 3600 });
    await hourly.verifier.verifyAccessToken(await hourly.sign({ scope: SCOPE, exp: now + 3600 }));
    await assert.rejects(
      hourly.verifier.verifyAccessToken(await hourly.sign({ scope: SCOPE, exp: now + 7200 })),
      /lifetime is longer than 3600 seconds/,
    );
  });

  it("names a caller by subject, or by client in a space of its own (no sharing a user's sessions)", async () => {
    const { verifier, sign } = await setUp({ issuer, jwks_uri: "https://id.example.com/keys" });
    const user = await verifier.verifyAccessToken(await sign({ scope: SCOPE, sub: "alice" }));
    const client = await verifier.verifyAccessToken(
      await sign({ scope: SCOPE, sub: undefined, client_id: "alice" }),
    );
    assert.equal(user.extra.principal, `${issuer}#alice`);
    assert.equal(client.extra.principal, `client:${issuer}#alice`);
    assert.equal(client.clientId, "alice");
  });

  it("pauses key fetches for a few seconds after a failure; keys it holds still verify", async () => {
    let now = Date.now();
    let down = true;
    const { verifier, sign, asked } = await setUp(
      { issuer, jwks_uri: "https://id.example.com/keys" },
      { now: () => now, keysStatus: () => (down ? 500 : 200), jwksCooldownMs: 0 },
    );
    const token = await sign({ scope: SCOPE });
    const keyFetches = () => asked.filter((u) => u === "https://id.example.com/keys").length;
    for (let i = 0; i < 50; i++)
      await assert.rejects(verifier.verifyAccessToken(token), keysUnavailable);
    assert.equal(keyFetches(), 1, "50 requests while the key server fails: one fetch");
    now += RETRY_PAUSE_MS;
    down = false;
    await verifier.verifyAccessToken(token);
    assert.equal(keyFetches(), 2);
    // Down again: an unknown kid makes jose refetch, which fails and pauses fetching; the key it
    // holds goes on verifying, and the unknown kid gets the same 503 without another fetch.
    down = true;
    const rotated = await sign({ scope: SCOPE }, { kid: "k2" });
    await assert.rejects(verifier.verifyAccessToken(rotated), keysUnavailable);
    await verifier.verifyAccessToken(token);
    await assert.rejects(verifier.verifyAccessToken(rotated), keysUnavailable);
    assert.equal(keyFetches(), 3);
  });

  it("refuses metadata that names another issuer or no usable jwks_uri: 503, not a verdict on the token", async () => {
    const pair = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" };
    for (const meta of [
      { issuer: "https://evil.example.com", jwks_uri: "https://id.example.com/keys" },
      { issuer, jwks_uri: "not a url" },
      { issuer },
      // RFC 8414 §2: jwks_uri MUST use https (http is for a loopback server under test only).
      { issuer, jwks_uri: "http://id.example.com/keys" },
      { issuer, jwks_uri: "https://user:pass@id.example.com/keys" },
      // Keys the document itself carries: anyone who can serve metadata picks the signing key.
      { issuer, jwks_uri: `data:application/json,${JSON.stringify({ keys: [jwk] })}` },
    ]) {
      const { verifier, sign } = await setUp(meta, { pair });
      await assert.rejects(
        verifier.verifyAccessToken(await sign({ scope: SCOPE })),
        keysUnavailable,
        JSON.stringify(meta),
      );
    }
  });
});

describe("the OAuth resource server, with oidc-provider as authorization server", () => {
  let as: OAuthServer;
  let foreign: OAuthServer;
  let signer: IdTokenSigner;
  let service: TestService;
  /** When set, the resource server's clock stands still there. */
  let frozenMs: number | undefined;

  /** The service's tool-call log lines so far, parsed. */
  const toolLines = () =>
    service.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => String(l.message).startsWith("tool "));

  before(async () => {
    as = await startOAuthServer({
      resources: [RESOURCE, OTHER_RESOURCE, SSE_RESOURCE],
      clientMetadataDocuments: {
        [CLIENT_URL]: {
          client_id: CLIENT_URL,
          client_name: "oauth-test (CIMD)",
          redirect_uris: ["http://127.0.0.1:9/callback"],
          grant_types: ["authorization_code"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        },
      },
    });
    foreign = await startOAuthServer({ resources: [RESOURCE] });
    signer = await createIdTokenSigner();
    service = await buildService(env(as.issuer), {
      keys: createLocalJWKSet(signer.jwks),
      now: () => frozenMs ?? Date.now(),
    });
  });
  after(async () => {
    await service.close();
    await as.stop();
    await foreign.stop();
  });

  it("names the documentation page in its metadata when MCP_RESOURCE_DOCUMENTATION is set", async () => {
    const docs = "https://docs.example.com/mcp-access";
    const documented = await buildService({ ...env(as.issuer), MCP_RESOURCE_DOCUMENTATION: docs });
    try {
      const res = await documented.app.request("/.well-known/oauth-protected-resource/mcp");
      assert.equal(((await res.json()) as Record<string, unknown>).resource_documentation, docs);
    } finally {
      await documented.close();
    }
  });

  it("publishes its Protected Resource Metadata at both well-known paths, CORS-readable", async () => {
    for (const path of [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
    ]) {
      const res = await service.app.request(path, { headers: { origin: "https://claude.ai" } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const doc = (await res.json()) as Record<string, unknown>;
      assert.equal(doc.resource, RESOURCE);
      assert.deepEqual(doc.authorization_servers, [as.issuer]);
      assert.deepEqual(doc.scopes_supported, [SCOPE]);
      assert.deepEqual(doc.bearer_methods_supported, ["header"]);
      assert.equal(typeof doc.resource_name, "string");
      assert.equal(
        doc.resource_documentation,
        undefined,
        "only when MCP_RESOURCE_DOCUMENTATION says",
      );
    }
    const preflight = await service.app.request("/.well-known/oauth-protected-resource/mcp", {
      method: "OPTIONS",
      headers: { origin: "https://claude.ai", "access-control-request-method": "GET" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  });

  it("lets an SDK client with a client-credentials token list and call tools", async () => {
    const token = await as.token();
    const client = new Client({ name: "oauth-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(RESOURCE), {
        fetch: service.appFetch,
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === "list_currencies"));
    const result = (await client.callTool({
      name: "list_currencies",
      arguments: {},
    })) as CallToolResult;
    assert.equal(result.isError, undefined);
    assert.ok(result.structuredContent);
    await client.close();
    const logged = service.lines.join("\n");
    assert.ok(!logged.includes(token), "the token never reaches a log");
    // Who called is on the tool call's line: the issuer-scoped subject and the client.
    const line = toolLines().at(-1);
    assert.equal(line?.principal, `${as.issuer}#${decodeJwt(token).sub}`);
    assert.equal(line?.client_id, as.clientId);
    assert.ok(
      !service.lines.some((l) => l.includes('"request authorized"')),
      "no line per request",
    );
  });

  /**
   * The SDK client's own OAuth (as VS Code, Claude Code and Codex use it): 401 → metadata → discovery
   * → registration (DCR, or a Client ID Metadata Document) → authorization code + PKCE with
   * `resource`, signed in as alice → tools/call. Returns what the client saved and a way to call on.
   * `sse`: over the legacy /sse with SDK v1's client, whose auth() mcp-remote and the Inspector run.
   */
  async function signIn(
    registration: { clientMetadataUrl?: string; refresh?: boolean; sse?: boolean } = {},
  ) {
    const redirectUrl = "http://127.0.0.1:9/callback";
    const saved: Record<string, unknown> = {};
    let authorizationUrl: URL | undefined;
    let registered = 0;
    const provider: OAuthClientProvider = {
      redirectUrl,
      ...(registration.clientMetadataUrl
        ? { clientMetadataUrl: registration.clientMetadataUrl }
        : {}),
      clientMetadata: {
        client_name: "oauth-test",
        redirect_uris: [redirectUrl],
        grant_types: registration.refresh
          ? ["authorization_code", "refresh_token"]
          : ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      },
      clientInformation: () => saved.client as never,
      saveClientInformation: (c) => {
        saved.client = c;
      },
      tokens: () => saved.tokens as never,
      saveTokens: (t) => {
        saved.tokens = t;
      },
      redirectToAuthorization: (u) => {
        authorizationUrl = u;
      },
      saveCodeVerifier: (v) => {
        saved.verifier = v;
      },
      codeVerifier: () => saved.verifier as string,
      saveDiscoveryState: (d) => {
        saved.discovery = d;
      },
      discoveryState: () => saved.discovery as never,
    };
    // The MCP server in process; the authorization server over the network.
    const route: FetchLike = (url, init) => {
      const to = new URL(url);
      if (to.hostname === "localhost") return service.appFetch(url, init);
      if (to.pathname === "/reg") registered++;
      return fetch(url, init);
    };
    const info = { name: "oauth-test", version: "1.0.0" };
    const resource = registration.sse ? SSE_RESOURCE : RESOURCE;
    const lane = registration.sse
      ? {
          client: () => new V1Client(info),
          transport: () =>
            new V1SSEClientTransport(new URL(resource), { authProvider: provider, fetch: route }),
          unauthorized: V1UnauthorizedError,
        }
      : {
          client: () => new Client(info),
          transport: () =>
            new StreamableHTTPClientTransport(new URL(resource), {
              authProvider: provider,
              fetch: route,
            }),
          unauthorized: UnauthorizedError,
        };
    const first = lane.transport();
    await assert.rejects(lane.client().connect(first), lane.unauthorized);
    assert.ok(authorizationUrl, "sent to the authorization server");
    assert.equal(authorizationUrl.searchParams.get("resource"), resource);
    assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
    const back = await as.authorize(authorizationUrl, "alice");
    assert.equal(back.get("iss"), as.issuer, "RFC 9207: the response names its issuer");
    // v1 takes the code, v2 the whole redirect (it checks `iss` too).
    await (first instanceof V1SSEClientTransport
      ? first.finishAuth(back.get("code")!)
      : first.finishAuth(back));
    const client = lane.client();
    await client.connect(lane.transport());
    const call = async () => {
      const result = (await client.callTool({
        name: "list_currencies",
        arguments: {},
      })) as CallToolResult;
      assert.equal(result.isError, undefined);
    };
    await call();
    const accessToken = () => (saved.tokens as { access_token: string }).access_token;
    return { client, call, accessToken, saved, registered: () => registered };
  }

  it("lets the SDK client's own OAuth do authorization code + PKCE after dynamic registration", async () => {
    const { client, accessToken, registered } = await signIn();
    await client.close();
    assert.equal(registered(), 1, "registered once (RFC 7591)");
    const token = decodeJwt(accessToken());
    assert.equal(token.sub, "alice");
    assert.equal(token.aud, RESOURCE);
  });

  it("signs in a client known by its Client ID Metadata Document, without registering", async () => {
    const { client, accessToken, registered } = await signIn({ clientMetadataUrl: CLIENT_URL });
    await client.close();
    assert.equal(registered(), 0, "no registration request: the URL is the client id");
    const token = decodeJwt(accessToken());
    assert.equal(token.client_id, CLIENT_URL);
    const line = toolLines().at(-1);
    assert.equal(line?.client_id, CLIENT_URL);
    assert.equal(line?.principal, `${as.issuer}#alice`);
  });

  it("signs SDK v1's client (mcp-remote's) in on /sse: its own metadata, resource …/sse", async () => {
    const { client, accessToken } = await signIn({ sse: true });
    await client.close();
    assert.equal(decodeJwt(accessToken()).aud, SSE_RESOURCE);
    const res = await service.app.request("/.well-known/oauth-protected-resource/sse");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const doc = (await res.json()) as Record<string, unknown>;
    assert.equal(doc.resource, SSE_RESOURCE);
    assert.deepEqual(doc.authorization_servers, [as.issuer]);
    const root = await service.app.request("/.well-known/oauth-protected-resource");
    assert.equal(((await root.json()) as Record<string, unknown>).resource, RESOURCE);
  });

  it("takes a token for its own resource only (RFC 8707): /mcp's not on /sse, nor the reverse", async () => {
    const forMcp = `Bearer ${await as.token()}`;
    const forSse = `Bearer ${await as.token({ resource: SSE_RESOURCE })}`;
    const sse = (authorization: string) =>
      service.app.request("/sse", { headers: { authorization } });
    const refused = [await sse(forMcp), await listTools(service, forSse)];
    for (const res of refused) {
      assert.equal(res.status, 401);
      assert.match(challengeOf(res).error_description!, /not issued for this server/);
    }
    assert.equal((await listTools(service, forMcp)).status, 200);
    const open = await sse(forSse);
    assert.equal(open.status, 200);
    await open.body?.cancel();
  });

  it("refreshes an expired access token with its refresh token and carries on", async () => {
    const { client, call, accessToken, saved } = await signIn({ refresh: true });
    const first = accessToken();
    assert.ok((saved.tokens as { refresh_token?: string }).refresh_token, "a refresh token");
    // Once a second has turned, a new token's exp is later than the first's: a resource-server
    // clock standing at the first's exp plus the skew refuses the first and accepts the new one.
    const { iat, exp } = decodeJwt(first);
    while (Math.floor(Date.now() / 1000) <= iat!) await new Promise((r) => setTimeout(r, 100));
    try {
      frozenMs = (exp! + OAUTH_CLOCK_SKEW_SECONDS) * 1000;
      assert.equal(challengeOf(await listTools(service, `Bearer ${first}`)).error, "invalid_token");
      await call(); // 401 → refresh_token grant with `resource` → the call sent again
      assert.notEqual(accessToken(), first, "a new access token");
      assert.equal(decodeJwt(accessToken()).aud, RESOURCE);
    } finally {
      frozenMs = undefined;
    }
    await client.close();
  });

  it("accepts the agent's Google ID token beside OAuth, told apart by iss", async () => {
    const idToken = await signer.sign({
      aud: AUDIENCE,
      email: AGENT,
      email_verified: true,
      sub: "7",
    });
    assert.equal((await listTools(service, `Bearer ${idToken}`)).status, 200);
    assert.equal((await listTools(service, `Bearer ${await as.token()}`)).status, 200);
    const stranger = await signer.sign({ aud: AUDIENCE, email: "x@y.com", email_verified: true });
    assert.equal((await listTools(service, `Bearer ${stranger}`)).status, 403);
  });

  it("refuses each bad request with its status and challenge, on /mcp, /sse and /messages", async () => {
    const good = await as.token();
    const [head, body] = good.split(".");
    // A token without the scope, for the resource each path is (/mcp, or /sse for /sse and /messages).
    const scopeless = {
      "/mcp": `Bearer ${await as.token({ scope: OTHER_SCOPE })}`,
      sse: `Bearer ${await as.token({ scope: OTHER_SCOPE, resource: SSE_RESOURCE })}`,
    };
    type Authorization = string | typeof scopeless | undefined;
    const cases: Array<[string, Authorization, number, string | undefined]> = [
      ["missing", undefined, 401, undefined],
      ["malformed (Basic)", "Basic dXNlcjpwYXNz", 400, "invalid_request"],
      ["malformed (two tokens)", `Bearer ${good}, Bearer ${good}`, 400, "invalid_request"],
      ["not a JWT", "Bearer not-a-jwt", 401, "invalid_token"],
      ["bad signature", `Bearer ${head}.${body}.AAAA`, 401, "invalid_token"],
      ["foreign issuer", `Bearer ${await foreign.token()}`, 401, "invalid_token"],
      [
        "wrong audience",
        `Bearer ${await as.token({ resource: OTHER_RESOURCE })}`,
        401,
        "invalid_token",
      ],
      ["missing scope", scopeless, 403, "insufficient_scope"],
    ];
    for (const [name, value, status, error] of cases) {
      for (const [path, method] of [
        ["/mcp", "POST"],
        ["/sse", "GET"],
        ["/messages?sessionId=x", "POST"],
      ] as const) {
        const authorization =
          typeof value === "object" ? value[path === "/mcp" ? "/mcp" : "sse"] : value;
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const res = await service.app.request(path, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          ...(method === "POST" ? { body: rpc(1, "tools/list") } : {}),
        });
        assert.equal(res.status, status, `${name} on ${path}`);
        const c = challengeOf(res);
        const metadata = path === "/mcp" ? METADATA : SSE_METADATA;
        assert.equal(c.resource_metadata, metadata, `${name} on ${path}`);
        assert.equal(c.scope, SCOPE, `${name} on ${path}`);
        assert.equal(c.error, error, `${name} on ${path}`);
      }
    }
    assert.ok(!service.lines.join("\n").includes(body!), "no refused token reaches a log");
  });

  it("grants 60 s of clock skew on exp, and no more", async () => {
    const token = await as.token();
    const exp = decodeJwt(token).exp! * 1000;
    try {
      frozenMs = exp + 30_000;
      assert.equal((await listTools(service, `Bearer ${token}`)).status, 200);
      frozenMs = exp + 90_000;
      const res = await listTools(service, `Bearer ${token}`);
      assert.equal(res.status, 401);
      assert.equal(challengeOf(res).error, "invalid_token");
      assert.match(res.headers.get("www-authenticate")!, /expired/);
    } finally {
      frozenMs = undefined;
    }
  });

  it("keeps an SSE session to the principal that opened it", async () => {
    const mine = `Bearer ${await as.token({ resource: SSE_RESOURCE })}`;
    const res = await service.app.request("/sse", { headers: { authorization: mine } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const endpoint = /data: (\S+)/.exec(new TextDecoder().decode((await reader.read()).value))![1]!;
    const post = (authorization: string, body = rpc(1, "ping")) =>
      service.app.request(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body,
      });
    const idToken = await signer.sign({
      aud: AUDIENCE,
      email: AGENT,
      email_verified: true,
      sub: "7",
    });
    assert.equal((await post(`Bearer ${idToken}`)).status, 404, "another principal cannot post");
    assert.equal((await post(mine)).status, 202);
    const call = rpc(2, "tools/call", { name: "list_currencies", arguments: {} });
    const before = toolLines().length;
    assert.equal((await post(mine, call)).status, 202);
    for (let i = 0; i < 500 && toolLines().length === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    const sub = decodeJwt(mine.slice("Bearer ".length)).sub;
    assert.equal(toolLines().at(-1)?.principal, `${as.issuer}#${sub}`, "over SSE too");
    await reader.cancel();
  });
});

describe("the authorization server's keys", () => {
  it("answers 503 with Retry-After, never 401, while the key server is down, and recovers", async () => {
    const as = await startOAuthServer({ resources: [RESOURCE] });
    const token = await as.token();
    let offsetMs = 0;
    const service = await buildService(env(as.issuer, "oauth"), {
      now: () => Date.now() + offsetMs,
    });
    try {
      await as.stop();
      const down = await listTools(service, `Bearer ${token}`);
      assert.equal(down.status, 503);
      assert.ok(Number(down.headers.get("retry-after")) > 0);
      assert.equal(down.headers.get("www-authenticate"), null);
      await as.start();
      // The failed discovery stands for RETRY_PAUSE_MS, then the next request finds the server.
      assert.equal((await listTools(service, `Bearer ${token}`)).status, 503);
      offsetMs += RETRY_PAUSE_MS;
      assert.equal((await listTools(service, `Bearer ${token}`)).status, 200);
      // Keys cached: the authorization server down no longer matters to a known kid.
      await as.stop();
      assert.equal((await listTools(service, `Bearer ${token}`)).status, 200);
    } finally {
      await as.stop();
      await service.close();
    }
  });

  it("accepts a rotated key (new kid) after one refetch, at most once per cooldown", async () => {
    const as = await startOAuthServer({ resources: [RESOURCE] });
    const slow = await buildService(env(as.issuer, "oauth"));
    const quick = await buildService(env(as.issuer, "oauth"), { jwksCooldownMs: 200 });
    try {
      const before = `Bearer ${await as.token()}`;
      assert.equal((await listTools(slow, before)).status, 200);
      assert.equal((await listTools(quick, before)).status, 200);
      assert.equal(as.jwksHits(), 2);
      await as.rotate();
      const rotated = `Bearer ${await as.token()}`;
      // Within the default minute of cooldown, an unknown kid does not make it refetch.
      assert.equal((await listTools(slow, rotated)).status, 401);
      assert.equal(as.jwksHits(), 2);
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await listTools(quick, rotated)).status, 200);
      assert.equal((await listTools(quick, rotated)).status, 200);
      assert.equal((await listTools(quick, before)).status, 200, "the old key is still published");
      assert.equal(as.jwksHits(), 3, "one refetch for the new kid");
    } finally {
      await as.stop();
      await slow.close();
      await quick.close();
    }
  });
});
