// A GCE-metadata-compatible server (what google-auth-library talks to on Cloud Run), minting RS256
// ID tokens with a test key and serving that key's JWKS. Point GCE_METADATA_HOST at it. Tests only.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createIdTokenSigner, type IdTokenSigner } from "./id-tokens.js";

export interface MetadataServerOptions {
  port?: number;
  host?: string;
  email?: string;
  project?: string;
  tokenLifetimeSeconds?: number;
  /** Mint tokens for this audience whatever is asked (to test a wrong-audience refusal). */
  audienceOverride?: string;
  signer?: IdTokenSigner;
}

export interface MetadataServer {
  /** host:port, the form GCE_METADATA_HOST takes. */
  host: string;
  certsUrl: string;
  signer: IdTokenSigner;
  identityRequests: string[];
  accessTokenRequests: () => number;
  close(): Promise<void>;
}

export async function startMetadataServer(
  opts: MetadataServerOptions = {},
): Promise<MetadataServer> {
  const signer = opts.signer ?? (await createIdTokenSigner());
  const email = opts.email ?? "agent@my-project.iam.gserviceaccount.com";
  const project = opts.project ?? "my-project";
  const identityRequests: string[] = [];
  let accessTokens = 0;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://metadata.google.internal");
    const send = (status: number, body: string, type = "application/text"): void => {
      res.writeHead(status, { "Metadata-Flavor": "Google", "content-type": type }).end(body);
    };
    if (url.pathname === "/oauth2/v3/certs") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(signer.jwks));
      return;
    }
    if (req.headers["metadata-flavor"] !== "Google")
      return send(403, "Missing Metadata-Flavor:Google header.");
    const path = url.pathname.replace(/\/+$/, "");
    switch (path) {
      case "":
      case "/computeMetadata/v1":
      case "/computeMetadata/v1/instance":
        return send(200, "attributes/\nhostname\nid\nservice-accounts/\nzone\n");
      case "/computeMetadata/v1/project/project-id":
        return send(200, project);
      case "/computeMetadata/v1/instance/zone":
        return send(200, `projects/123456789/zones/us-central1-1`);
      case "/computeMetadata/v1/instance/service-accounts/default/email":
        return send(200, email);
      case "/computeMetadata/v1/instance/service-accounts/default/token":
        accessTokens++;
        return send(
          200,
          JSON.stringify({
            access_token: `ya29.test-${accessTokens}`,
            expires_in: 3599,
            token_type: "Bearer",
          }),
          "application/json",
        );
      case "/computeMetadata/v1/instance/service-accounts/default/identity": {
        const audience = url.searchParams.get("audience");
        if (!audience) return send(400, "non-empty audience parameter required");
        identityRequests.push(audience);
        void signer
          .sign(
            {
              aud: opts.audienceOverride ?? audience,
              azp: "1234567890",
              email,
              email_verified: true,
              sub: "1234567890",
            },
            { expiresInSeconds: opts.tokenLifetimeSeconds ?? 3600 },
          )
          .then((token) => send(200, token));
        return;
      }
      default:
        return send(404, "Not Found");
    }
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    host: `${host}:${port}`,
    certsUrl: `http://${host}:${port}/oauth2/v3/certs`,
    signer,
    identityRequests,
    accessTokenRequests: () => accessTokens,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// CLI: node --import tsx test/support/metadata-server.ts [--port N] [--host H] [--email E] [--lifetime S] [--audience A] [--key JWK-FILE]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const lifetime = arg("--lifetime");
  const md = await startMetadataServer({
    port: Number(arg("--port") ?? 0),
    host: arg("--host") ?? "127.0.0.1",
    ...(arg("--email") ? { email: arg("--email")! } : {}),
    ...(lifetime ? { tokenLifetimeSeconds: Number(lifetime) } : {}),
    ...(arg("--audience") ? { audienceOverride: arg("--audience")! } : {}),
    ...(arg("--key")
      ? { signer: await createIdTokenSigner(JSON.parse(readFileSync(arg("--key")!, "utf8"))) }
      : {}),
  });
  console.log(JSON.stringify({ url: `http://${md.host}`, host: md.host, certs_url: md.certsUrl }));
  const stop = (): void => void md.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
