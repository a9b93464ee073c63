// The images Cloud Run will run, built from the Dockerfile and started on one network with
// Frankfurter- and metadata-compatible containers. Runs on Node 22 (testcontainers needs it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { build } from "esbuild";
import {
  GenericContainer,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from "testcontainers";
import { expectedConversion } from "../support/frankfurter.js";
import { createIdTokenSigner, type IdTokenSigner } from "../support/id-tokens.js";
import { ROOT } from "../support/service.js";

const NODE_IMAGE =
  process.env.NODE_IMAGE ??
  execFileSync(path.join(ROOT, "scripts/base-image.sh"), { encoding: "utf8" }).trim();
const INVOKER = "agent@my-project.iam.gserviceaccount.com";
const health = Wait.forHttp("/health", 8080).forStatusCode(200);
// This run's tags (another run may share the engine), removed at the end with the unshipped stages'
// untagged images this run left (the Dockerfile labels them).
const TAG = `test-${randomBytes(4).toString("hex")}`;
const MCP_IMAGE = `mcp-server:${TAG}`;
const AGENT_IMAGE = `agent:${TAG}`;
const docker = (...args: string[]): string => {
  try {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
};
const stageImages = (): string[] =>
  docker(
    "image",
    "ls",
    "-q",
    "--no-trunc",
    "--filter",
    "dangling=true",
    "--filter",
    "label=cloud-run-mcp-agent.stage",
  )
    .split("\n")
    .filter(Boolean);

describe("containers", { timeout: 600_000 }, () => {
  let net: StartedNetwork;
  let work: string;
  let agentImage: GenericContainer;
  const started: StartedTestContainer[] = [];
  const start = async (c: GenericContainer): Promise<StartedTestContainer> => {
    const s = await c.start();
    started.push(s);
    return s;
  };
  /** A stand-in from test/support, bundled to one file and run on the same Node base image. */
  const standIn = async (
    name: string,
    alias: string,
    args: string[] = [],
    files: Array<{ source: string; target: string }> = [],
  ) => {
    const file = path.join(work, `${name}.mjs`);
    await build({
      entryPoints: [path.join(ROOT, "test/support", `${name}.ts`)],
      outfile: file,
      bundle: true,
      platform: "node",
      format: "esm",
      logLevel: "error",
    });
    return start(
      new GenericContainer(NODE_IMAGE)
        .withCopyFilesToContainer([{ source: file, target: `/app/${name}.mjs` }, ...files])
        .withCommand(["node", `/app/${name}.mjs`, "--port", "8080", "--host", "0.0.0.0", ...args])
        .withNetwork(net)
        .withNetworkAliases(alias)
        .withExposedPorts(8080)
        .withWaitStrategy(Wait.forLogMessage(/"url"/)),
    );
  };
  const url = (c: StartedTestContainer): string => `http://${c.getHost()}:${c.getMappedPort(8080)}`;
  const chat = async (agent: StartedTestContainer, message: string) => {
    const res = await fetch(`${url(agent)}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const agent = (env: Record<string, string>) =>
    start(
      agentImage
        .withEnvironment({ MODEL_PROVIDER: "offline", ...env })
        .withNetwork(net)
        .withExposedPorts(8080)
        .withWaitStrategy(health),
    );

  let stagesBefore: Set<string>;
  before(async () => {
    stagesBefore = new Set(stageImages());
    work = mkdtempSync(path.join(tmpdir(), "containers-"));
    net = await new Network().start();
    [, agentImage] = await Promise.all([
      GenericContainer.fromDockerfile(ROOT)
        .withBuildArgs({ NODE_IMAGE, SERVICE: "mcp-server" })
        .build(MCP_IMAGE, { deleteOnExit: false }),
      GenericContainer.fromDockerfile(ROOT)
        .withBuildArgs({ NODE_IMAGE, SERVICE: "agent" })
        .build(AGENT_IMAGE, { deleteOnExit: false }),
    ]);
  });
  after(async () => {
    await Promise.all(started.map((c) => c.stop({ timeout: 5_000 }).catch(() => undefined)));
    await net?.stop().catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
    docker("rmi", MCP_IMAGE, AGENT_IMAGE);
    const left = stageImages().filter((id) => !stagesBefore?.has(id));
    if (left.length) docker("rmi", ...left);
  });

  it("carries only the bundle, runs as non-root, and honours PORT", async () => {
    await standIn("frankfurter", "frankfurter");
    const mcp = await start(
      new GenericContainer(MCP_IMAGE)
        .withEnvironment({ FRANKFURTER_URL: "http://frankfurter:8080/v2" })
        .withNetwork(net)
        .withNetworkAliases("mcp-server")
        .withExposedPorts(8080)
        .withWaitStrategy(health),
    );
    const uid = await mcp.exec(["node", "-e", "console.log(process.getuid())"]);
    assert.equal(uid.output.trim(), "1000");
    const files = await mcp.exec([
      "node",
      "-e",
      "console.log(require('fs').readdirSync('/app').join(','))",
    ]);
    assert.equal(files.output.trim(), "main.mjs");
    const nm = await mcp.exec([
      "node",
      "-e",
      "console.log(require('fs').existsSync('/app/node_modules'))",
    ]);
    assert.equal(nm.output.trim(), "false");
    const port = await start(
      new GenericContainer(MCP_IMAGE)
        .withEnvironment({ PORT: "9090" })
        .withExposedPorts(9090)
        .withWaitStrategy(Wait.forHttp("/health", 9090)),
    );
    assert.equal(
      (await fetch(`http://${port.getHost()}:${port.getMappedPort(9090)}/health`)).status,
      200,
    );
  });

  for (const [transport, p] of [
    ["SSE", "/sse"],
    ["Streamable HTTP", "/mcp"],
  ] as const) {
    it(`answers a chat through both containers over ${transport}`, async () => {
      const a = await agent({ MCP_SERVER_URL: `http://mcp-server:8080${p}` });
      const r = await chat(a, "What is 100 USD in EUR?");
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(
        r.body.response.includes(`100 USD = ${expectedConversion("USD", "EUR", 100)} EUR`),
        r.body.response,
      );
      assert.equal(
        (await a.exec(["node", "-e", "console.log(process.getuid())"])).output.trim(),
        "1000",
      );
    });
  }

  it("exports one trace per turn from both containers to an OTLP receiver", async () => {
    const receiver = await standIn("otlp-receiver", "otlp");
    await standIn("frankfurter", "frankfurter-traced");
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otlp:8080",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      GOOGLE_CLOUD_PROJECT: "test-project",
    };
    await start(
      new GenericContainer(MCP_IMAGE)
        .withEnvironment({ ...otel, FRANKFURTER_URL: "http://frankfurter-traced:8080/v2" })
        .withNetwork(net)
        .withNetworkAliases("mcp-traced")
        .withExposedPorts(8080)
        .withWaitStrategy(health),
    );
    const a = await agent({ ...otel, MCP_SERVER_URL: "http://mcp-traced:8080/mcp" });
    const traceId = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const res = await fetch(`${url(a)}/chat`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
    });
    assert.equal(res.status, 200);
    type Got = {
      service: string;
      traceId: string;
      spanId: string;
      parentSpanId: string;
      name: string;
    };
    let spans: Got[] = [];
    for (
      const until = Date.now() + 30_000;
      Date.now() < until;
      await new Promise((r) => setTimeout(r, 200))
    ) {
      spans = ((await (await fetch(`${url(receiver)}/test/spans`)).json()) as Got[]).filter(
        (s) => s.traceId === traceId,
      );
      if (
        spans.some((s) => s.service === "mcp-server" && s.name === "GET") &&
        spans.some((s) => s.name.startsWith("invoke_agent"))
      )
        break;
    }
    const named = (service: string, name: string): Got | undefined =>
      spans.find((s) => s.service === service && s.name === name);
    assert.equal(
      named("agent", "invoke_agent currency-agent")?.parentSpanId,
      callerSpan,
      JSON.stringify(spans),
    );
    assert.equal(
      named("mcp-server", "tools/call get_exchange_rate")?.parentSpanId,
      named("agent", "tools/call get_exchange_rate")?.spanId,
    );
    assert.equal(
      named("mcp-server", "GET")?.parentSpanId,
      named("mcp-server", "tools/call get_exchange_rate")?.spanId,
    );
  });

  it("runs a Gemini 3 tool turn against the strict Gemini stand-in, streamed and not", async () => {
    await standIn("gemini", "gemini");
    const a = await agent({
      MCP_SERVER_URL: "http://mcp-server:8080/mcp",
      MODEL_PROVIDER: "gemini",
      GOOGLE_API_KEY: "test-key",
      GOOGLE_GEMINI_BASE_URL: "http://gemini:8080",
    });
    const r = await chat(a, "What is 100 USD in EUR?");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(
      r.body.response,
      new RegExp(`^100 USD is ${expectedConversion("USD", "EUR", 100)} EUR`),
    );
    const res = await fetch(`${url(a)}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "What is 100 USD in GBP?" }),
    });
    const sse = await res.text();
    assert.ok((sse.match(/^event: text$/gm) ?? []).length > 3, sse);
    assert.match(sse, /event: tool_result[\s\S]*event: done/);
  });

  describe("with Google ID tokens", () => {
    let keyFile: string;
    let signer: IdTokenSigner;
    let mcpAuth: StartedTestContainer;
    before(async () => {
      signer = await createIdTokenSigner();
      keyFile = path.join(work, "key.json");
      writeFileSync(keyFile, JSON.stringify(signer.privateJwk));
      const key = [{ source: keyFile, target: "/app/key.json" }];
      await standIn(
        "metadata-server",
        "metadata",
        ["--email", INVOKER, "--key", "/app/key.json"],
        key,
      );
      await standIn(
        "metadata-server",
        "metadata-wrong-aud",
        ["--email", INVOKER, "--key", "/app/key.json", "--audience", "http://elsewhere:8080"],
        key,
      );
      await standIn(
        "metadata-server",
        "metadata-intruder",
        ["--email", "intruder@other.iam.gserviceaccount.com", "--key", "/app/key.json"],
        key,
      );
      mcpAuth = await start(
        new GenericContainer(MCP_IMAGE)
          .withEnvironment({
            FRANKFURTER_URL: "http://frankfurter:8080/v1",
            MCP_SERVER_AUTH: "google-id-token",
            MCP_AUTH_AUDIENCE: "http://mcp-auth:8080",
            MCP_ALLOWED_INVOKERS: INVOKER,
            MCP_AUTH_CERTS_URL: "http://metadata:8080/oauth2/v3/certs",
          })
          .withNetwork(net)
          .withNetworkAliases("mcp-auth")
          .withExposedPorts(8080)
          .withWaitStrategy(health),
      );
    });
    const authedAgent = (metadataHost: string) =>
      agent({
        MCP_SERVER_URL: "http://mcp-auth:8080/mcp",
        MCP_AUTH: "id-token",
        GCE_METADATA_HOST: `${metadataHost}:8080`,
        METADATA_SERVER_DETECTION: "assume-present",
      });

    // The verifier's unit tests were cancelled on Node 22.23 by the test runner, not by the verifier:
    // this is the production path (the image's Node 22, keys fetched over HTTP from a JWKS endpoint).
    it("on the image's Node 22, answers a good token with 200 and a bad one with 401", async () => {
      const node = await mcpAuth.exec(["node", "--version"]);
      assert.match(node.output.trim(), /^v22\./);
      const post = (authorization?: string) =>
        fetch(`${url(mcpAuth)}/mcp`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: {
              protocolVersion: "2025-06-18",
              capabilities: {},
              clientInfo: { name: "containers-test", version: "0" },
            },
          }),
        });
      const claims = {
        aud: "http://mcp-auth:8080",
        email: INVOKER,
        email_verified: true,
        sub: "1",
      };
      const good = await post(`Bearer ${await signer.sign(claims)}`);
      assert.equal(good.status, 200, await good.clone().text());
      assert.match(await good.text(), /"serverInfo"/);
      const other = await createIdTokenSigner();
      for (const [what, authorization] of [
        ["no token", undefined],
        [
          "a token signed by an unknown key",
          `Bearer ${await other.sign(claims, { kid: signer.kid })}`,
        ],
        [
          "an expired token",
          `Bearer ${await signer.sign(claims, { issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 3600 })}`,
        ],
        [
          "a token for another audience",
          `Bearer ${await signer.sign({ ...claims, aud: "http://elsewhere:8080" })}`,
        ],
      ] as const) {
        const bad = await post(authorization);
        assert.equal(bad.status, 401, what);
        await bad.body?.cancel();
      }
    });

    it("rejects an unauthenticated request", async () => {
      const r = await agent({ MCP_SERVER_URL: "http://mcp-auth:8080/mcp", MCP_AUTH: "none" });
      const res = await chat(r, "What is 100 USD in EUR?");
      assert.equal(res.status, 502);
      assert.match(res.body.error.message, /HTTP 401/);
    });

    it("lets the agent in with an ID token minted by the metadata server", async () => {
      const r = await chat(await authedAgent("metadata"), "What is 100 USD in EUR?");
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(r.body.response.includes(String(expectedConversion("USD", "EUR", 100))));
    });

    it("refuses a wrong audience and an account that is not allowed, and the agent says so", async () => {
      const wrong = await chat(await authedAgent("metadata-wrong-aud"), "What is 100 USD in EUR?");
      assert.equal(wrong.status, 502);
      assert.match(wrong.body.error.message, /HTTP 401/);
      const intruder = await chat(
        await authedAgent("metadata-intruder"),
        "What is 100 USD in EUR?",
      );
      assert.equal(intruder.status, 502);
      assert.match(intruder.body.error.message, /HTTP 403.*run\.invoker/);
    });
  });
});
