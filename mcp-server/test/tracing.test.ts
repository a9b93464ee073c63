// Trace context in the MCP server: continued from a request's `_meta` (MCP 2026-07-28, SEP-414) or its
// HTTP headers, on every log line, and passed on to Frankfurter; the parsing and settings underneath.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type FetchLike,
} from "@modelcontextprotocol/client";
import {
  configureTraceProject,
  currentSpan,
  currentTraceFields,
  parseCloudTraceContext,
  parseTraceparent,
  withRemoteContext,
} from "../../common/trace-context.js";
import { startMetadataServer } from "../../test/support/metadata-server.js";
import { buildService } from "./support/service.js";
import { createLogger } from "../../common/log.js";
import { handle, startFrankfurter } from "../../test/support/frankfurter.js";
import {
  expectNoOtlpSecret,
  expectRedactedEndpoint,
  secretOtlpSettings,
  startOtlpReceiver,
} from "../../test/support/otlp-receiver.js";
import { startService } from "../../test/support/service.js";
import { startTracing, tracingRequested } from "../../common/tracing.js";

const TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACE_B = "0af7651916cd43dd8448eb211c80319c";

async function setup(format: "json" | "text" = "json") {
  const lines: string[] = [];
  const upstream: string[] = [];
  const current: unknown[] = [];
  const fetchUpstream = (async (input: string | URL | Request, init?: RequestInit) => {
    upstream.push(new Headers(init?.headers).get("traceparent") ?? "");
    current.push(currentSpan());
    const url = new URL(input instanceof Request ? input.url : input);
    const { status, body } = handle(url.pathname, url.searchParams);
    return Response.json(body, { status });
  }) as typeof fetch;
  const logger = createLogger({}, (l) => lines.push(l), { format, level: "DEBUG" });
  const { app } = await buildService({}, { fetch: fetchUpstream, logger });
  // Every request from the client carries caller A's traceparent header.
  const appFetch: FetchLike = async (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set("traceparent", `00-${TRACE_A}-00f067aa0ba902b7-01`);
    return app.fetch(new Request(url, { ...init, headers }));
  };
  return { lines, upstream, current, appFetch };
}

async function connect(appFetch: FetchLike, kind: "mcp" | "sse"): Promise<Client> {
  const client = new Client(
    { name: "tracing-test", version: "1.0.0" },
    kind === "mcp" ? { versionNegotiation: { mode: "auto" } } : {},
  );
  const url = new URL(`http://127.0.0.1:8081/${kind}`);
  await client.connect(
    kind === "sse"
      ? new SSEClientTransport(url, { fetch: appFetch })
      : new StreamableHTTPClientTransport(url, { fetch: appFetch }),
  );
  return client;
}

describe("trace context in the MCP server", () => {
  for (const kind of ["mcp", "sse"] as const) {
    it(`continues the trace in _meta over /${kind} (before the HTTP header's) and passes it to Frankfurter`, async () => {
      const { lines, upstream, current, appFetch } = await setup();
      const client = await connect(appFetch, kind);
      try {
        await client.callTool({
          name: "get_exchange_rate",
          arguments: { currency_to: "GBP" },
          _meta: { traceparent: `00-${TRACE_B}-b7ad6b7169203331-01`, tracestate: "k=v" },
        });
      } finally {
        await client.close();
      }
      const line = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.message === "tool get_exchange_rate");
      assert.equal(line?.trace_id, TRACE_B, "no project configured: the bare trace id");
      assert.match(String(line?.["logging.googleapis.com/spanId"]), /^[0-9a-f]{16}$/);
      assert.notEqual(
        line?.["logging.googleapis.com/spanId"],
        "b7ad6b7169203331",
        "the tool call is a span of its own",
      );
      assert.equal(line?.["logging.googleapis.com/trace_sampled"], true);
      assert.equal(upstream.length, 1);
      assert.match(upstream[0]!, new RegExp(`^00-${TRACE_B}-[0-9a-f]{16}-01$`));
      // Passed as an argument, never made current: no AsyncLocalStorage, so no promise hooks on every
      // promise of the process (SpanOptions.current in common/trace.ts).
      assert.deepEqual(current, [undefined]);
    });
  }

  it("continues the HTTP traceparent when _meta has none, and shows it briefly in text logs", async () => {
    const { lines, upstream, appFetch } = await setup("text");
    const client = await connect(appFetch, "mcp");
    try {
      await client.callTool({ name: "get_exchange_rate", arguments: { currency_to: "CHF" } });
    } finally {
      await client.close();
    }
    const line = lines.find((l) => l.includes("tool get_exchange_rate"));
    assert.match(line ?? "", new RegExp(` trace=${TRACE_A} span=[0-9a-f]{16}`));
    assert.ok(!line?.includes("logging.googleapis.com"), line);
    assert.match(upstream[0]!, new RegExp(`^00-${TRACE_A}-`));
  });
});

describe("trace context parsing and settings", () => {
  it("reads W3C traceparent as the specification says", () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE_A}-00f067aa0ba902b7-01`), {
      traceId: TRACE_A,
      spanId: "00f067aa0ba902b7",
      sampled: true,
    });
    assert.equal(parseTraceparent(`00-${TRACE_A}-00f067aa0ba902b7-00`)?.sampled, false);
    // A later version may add fields: the first four are read; version 00 may not have more.
    assert.equal(parseTraceparent(`01-${TRACE_A}-00f067aa0ba902b7-01-extra`)?.traceId, TRACE_A);
    for (const bad of [
      `00-${TRACE_A}-00f067aa0ba902b7-01-extra`,
      `ff-${TRACE_A}-00f067aa0ba902b7-01`,
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_A}-${"0".repeat(16)}-01`,
      "00-abc-def-01",
      "",
      undefined,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad));
    }
  });

  it("reads X-Cloud-Trace-Context (decimal span id) into the same shape", () => {
    assert.deepEqual(parseCloudTraceContext(`${TRACE_A}/1;o=1`), {
      traceId: TRACE_A,
      spanId: "0000000000000001",
      sampled: true,
    });
    assert.equal(
      parseCloudTraceContext(`${TRACE_A}/18446744073709551615;o=0`)?.spanId,
      "ffffffffffffffff",
    );
    assert.equal(parseCloudTraceContext(`${TRACE_A}`)?.sampled, false);
    assert.equal(parseCloudTraceContext("not a trace"), undefined);
  });

  it("exports only when the OTEL_* settings ask for it", () => {
    assert.equal(tracingRequested({}).on, false);
    assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: "otlp" }).on, true);
    assert.equal(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).on,
      true,
    );
    assert.equal(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })
        .on,
      true,
    );
    assert.equal(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_TRACES_EXPORTER: "none" })
        .on,
      false,
    );
    assert.equal(
      tracingRequested({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" }).on,
      false,
    );
    const odd = tracingRequested({ OTEL_TRACES_EXPORTER: "zipkin" });
    assert.equal(odd.on, false);
    assert.match(odd.problem ?? "", /zipkin/);
  });
});

describe("on Cloud Run without GOOGLE_CLOUD_PROJECT", () => {
  it("asks the metadata server for the project once, in the background, and names it in later lines", async () => {
    const metadata = await startMetadataServer({ project: "run-project" });
    let asked = 0;
    const counting: typeof fetch = (input, init) => {
      asked++;
      return fetch(input, init);
    };
    try {
      configureTraceProject(
        { K_SERVICE: "mcp-server", GCE_METADATA_HOST: metadata.host },
        counting,
      );
      const ctx = { traceId: TRACE_A, spanId: "00f067aa0ba902b7", sampled: true };
      // The first line does not wait for the answer: it carries the bare trace id.
      assert.equal(withRemoteContext(ctx, currentTraceFields).trace_id, TRACE_A);
      let fields: Record<string, unknown> = {};
      for (let i = 0; i < 100 && !fields["logging.googleapis.com/trace"]; i++) {
        await new Promise((r) => setTimeout(r, 20));
        fields = withRemoteContext(ctx, currentTraceFields);
      }
      assert.equal(
        fields["logging.googleapis.com/trace"],
        `projects/run-project/traces/${TRACE_A}`,
      );
      assert.equal(asked, 1);
      assert.deepEqual(currentTraceFields(), {}, "no request, no trace fields");
    } finally {
      configureTraceProject({});
      await metadata.close();
    }
  });

  it("gives the exporter the service account's token from the metadata server, cached", async () => {
    const metadata = await startMetadataServer();
    try {
      const { metadataTokenHeaders } = await import("../../common/otel.js");
      const headers = metadataTokenHeaders({ GCE_METADATA_HOST: metadata.host });
      assert.deepEqual(await headers(), { authorization: "Bearer ya29.test-1" });
      assert.deepEqual(await headers(), { authorization: "Bearer ya29.test-1" });
      assert.equal(metadata.accessTokenRequests(), 1);
    } finally {
      await metadata.close();
    }
  });
});

describe("the OTLP settings in the logs", () => {
  it("shows the endpoint without its credentials and query, and never the OTLP headers", async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await startFrankfurter();
    const mcp = await startService("mcp-server", {
      FRANKFURTER_URL: upstream.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
      ...secretOtlpSettings(receiver.url),
    });
    try {
      const client = new Client({ name: "tracing-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${mcp.url}/mcp`)));
      await client.callTool({ name: "get_exchange_rate", arguments: { currency_to: "GBP" } });
      await client.close();
      await expectRedactedEndpoint(mcp.logs, receiver.url);
    } finally {
      await mcp.stop();
      await upstream.close();
      await receiver.close();
    }
    expectNoOtlpSecret(mcp.output());
  });

  it("refuses an endpoint that is not a URL without repeating it", async () => {
    const lines: string[] = [];
    const logger = createLogger({}, (l) => lines.push(l));
    for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
      lines.length = 0;
      const env = { [name]: "http://user:otlp-password-3141@[not-a-host" };
      await startTracing(env, logger, { serviceName: "test", version: "0" });
      assert.match(lines.join("\n"), new RegExp(`tracing stays off: ${name}: not a URL`));
      assert.ok(!lines.join("\n").includes("otlp-password-3141"), lines.join("\n"));
    }
  });
});
