// Server CPU per cached tools/call in process, through app.fetch (no sockets, no load generator):
// steadier than bench-eras.ts on a shared machine, for A/B runs of one change.
// Usage: node --import tsx mcp-server/test/support/bench-app.ts <2025|2026> [calls]
// ['{"ENV":"value"}'] [none|google-id-token|oauth]
// The auth argument verifies a token on every call, keys cached after the warm-up: a Google ID
// token against a local JWKS, or an oidc-provider access token against its issuer's JWKS.
import { createLocalJWKSet } from "jose";
import { createLogger } from "../../../common/log.js";
import { createIdTokenSigner } from "../../../test/support/id-tokens.js";
import { startOAuthServer } from "./oauth-server.js";
import { buildService } from "./service.js";

const [era = "2026", calls = "3000", env = "{}", auth = "none"] = process.argv.slice(2);
const n = Number(calls);
const quiet = createLogger({}, () => {});
const resource = "http://127.0.0.1/mcp";
const settings = JSON.parse(env) as Record<string, string>;
let authorization: string | undefined;
let keys: ReturnType<typeof createLocalJWKSet> | undefined;
let stopAs: (() => Promise<void>) | undefined;
if (auth === "google-id-token") {
  const signer = await createIdTokenSigner();
  keys = createLocalJWKSet(signer.jwks);
  const invoker = "agent@p.iam.gserviceaccount.com";
  Object.assign(settings, {
    MCP_SERVER_AUTH: auth,
    MCP_AUTH_AUDIENCE: resource,
    MCP_ALLOWED_INVOKERS: invoker,
  });
  const claims = { aud: resource, email: invoker, email_verified: true, sub: "1" };
  authorization = `Bearer ${await signer.sign(claims)}`;
} else if (auth === "oauth") {
  const as = await startOAuthServer({ resources: [resource] });
  stopAs = as.stop;
  Object.assign(settings, {
    MCP_SERVER_AUTH: auth,
    OAUTH_ISSUER: as.issuer,
    MCP_RESOURCE_URL: resource,
  });
  authorization = `Bearer ${await as.token()}`;
}
const { app } = await buildService(settings, { logger: quiet, keys });
const modern = era === "2026";
const meta = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};
const args = { currency_from: "USD", currency_to: "EUR", amount: 100 };
const params = { name: "get_exchange_rate", arguments: args, ...(modern ? { _meta: meta } : {}) };
const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params });
const headers = {
  host: "127.0.0.1:8081",
  origin: "http://localhost:3000",
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(body)),
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": modern ? "2026-07-28" : "2025-11-25",
  ...(modern ? { "mcp-method": "tools/call", "mcp-name": "get_exchange_rate" } : {}),
  ...(authorization ? { authorization } : {}),
};
const call = async (): Promise<void> => {
  const res = await app.fetch(
    new Request("http://127.0.0.1/mcp", { method: "POST", headers, body }),
  );
  const text = await res.text();
  if (!text.includes('"structuredContent"')) throw new Error(text.slice(0, 300));
};
for (let i = 0; i < Math.min(500, n); i++) await call();
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) await call();
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    era,
    env,
    auth,
    calls: n,
    cpu_us_per_call: Math.round((cpu.user + cpu.system) / n),
  }),
);
await stopAs?.();
