// One trace per turn: both bundles as real processes exporting to a local OTLP receiver, over both
// MCP transports; log lines joined to the trace; no SDK loaded with tracing off; a receiver that
// refuses or hangs never stands in the way of a chat.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startFrankfurter, type FakeFrankfurter } from "../../test/support/frankfurter.js";
import {
  expectNoOtlpSecret,
  expectRedactedEndpoint,
  secretOtlpSettings,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from "../../test/support/otlp-receiver.js";
import { bundlePath, ROOT, startService, type RunningService } from "../../test/support/service.js";
import { chat } from "../../test/support/agent.js";
import { inSpan } from "../../common/trace-context.js";
import { silentLogger } from "../../common/log.js";
import { McpConnection } from "../src/mcp/index.js";

const PRELOAD = path.join(ROOT, "test/support/report-otel-loaded.mjs");
const command = (service: "agent" | "mcp-server"): string[] => [
  process.execPath,
  "--import",
  PRELOAD,
  bundlePath(service),
];

const OTEL = {
  OTEL_BSP_SCHEDULE_DELAY: "100",
  OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
  GOOGLE_CLOUD_PROJECT: "test-project",
};
const one = (spans: ReceivedSpan[], service: string, name: string): ReceivedSpan => {
  const found = spans.filter((s) => s.service === service && s.name === name);
  assert.equal(
    found.length,
    1,
    `one ${service} span "${name}", got ${found.length}: ${spans.map((s) => `${s.service}:${s.name}`).join(", ")}`,
  );
  return found[0]!;
};

describe("tracing: one trace per turn", () => {
  let receiver: OtlpReceiver;
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  const agents: RunningService[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startFrankfurter();
    // The mcp-server speaks OTLP/HTTP JSON, the agent protobuf (the default): both encodings in one trace.
    mcp = await startService(
      "mcp-server",
      {
        ...OTEL,
        FRANKFURTER_URL: upstream.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      },
      { command: command("mcp-server") },
    );
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await mcp?.stop();
    await upstream?.close();
    await receiver?.close();
  });

  for (const [transport, mcpPath, currency] of [
    ["Streamable HTTP", "/mcp", "EUR"],
    ["SSE", "/sse", "JPY"],
  ] as const) {
    it(`joins agent, MCP server and Frankfurter in the caller's trace over ${transport}`, async () => {
      const agent = await startService(
        "agent",
        {
          ...OTEL,
          MCP_SERVER_URL: `${mcp.url}${mcpPath}`,
          MODEL_PROVIDER: "offline",
          OTEL_TRACES_EXPORTER: "otlp",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
          OTEL_SERVICE_NAME: "agent-under-test",
        },
        { command: command("agent") },
      );
      agents.push(agent);
      const traceId = randomBytes(16).toString("hex");
      const callerSpan = randomBytes(8).toString("hex");
      const r = await chat(
        agent,
        { message: `What is 100 USD in ${currency}?` },
        {
          traceparent: `00-${traceId}-${callerSpan}-01`,
        },
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));

      const spans = (
        await receiver.waitFor(
          (all) =>
            all.some((s) => s.traceId === traceId && s.name === "GET") &&
            all.some((s) => s.traceId === traceId && s.name.startsWith("invoke_agent")),
        )
      ).filter((s) => s.traceId === traceId);
      const turn = one(spans, "agent-under-test", "invoke_agent currency-agent");
      assert.equal(turn.parentSpanId, callerSpan, "the turn continues the caller's span");
      assert.equal(turn.attributes["gen_ai.operation.name"], "invoke_agent");
      assert.equal(turn.attributes["gen_ai.conversation.id"], r.body.session_id);
      // Two model calls: the one that asks for the tool, the one that words the answer.
      const models = spans.filter((s) => s.name === "chat offline");
      assert.equal(models.length, 2);
      for (const model of models) {
        assert.equal(model.parentSpanId, turn.spanId);
        assert.equal(model.attributes["gen_ai.request.model"], "offline");
        assert.equal(model.kind, 3, "a model call is a CLIENT span");
      }
      for (const op of ["load", "save"])
        assert.equal(
          one(spans, "agent-under-test", `session_store ${op}`).parentSpanId,
          turn.spanId,
        );
      const tool = one(spans, "agent-under-test", "execute_tool get_exchange_rate");
      assert.equal(tool.parentSpanId, turn.spanId);
      assert.equal(tool.attributes["gen_ai.tool.name"], "get_exchange_rate");
      const mcpClient = one(spans, "agent-under-test", "tools/call get_exchange_rate");
      assert.equal(mcpClient.parentSpanId, tool.spanId);
      assert.equal(mcpClient.attributes["mcp.method.name"], "tools/call");

      const server = one(spans, "mcp-server", "tools/call get_exchange_rate");
      assert.equal(
        server.parentSpanId,
        mcpClient.spanId,
        "the agent's tool call span is the parent of the MCP server's span",
      );
      assert.equal(server.kind, 2, "SERVER span");
      assert.equal(server.attributes["gen_ai.tool.name"], "get_exchange_rate");
      const upstreamCall = one(spans, "mcp-server", "GET");
      assert.equal(upstreamCall.parentSpanId, server.spanId);
      assert.equal(upstreamCall.attributes["http.response.status_code"], 200);
      assert.ok(
        upstream.traceparents.includes(`00-${traceId}-${upstreamCall.spanId}-01`),
        `Frankfurter saw the trace: ${upstream.traceparents.join(", ")}`,
      );
      // No message text or model output in any span.
      for (const s of spans)
        assert.ok(
          !JSON.stringify(s.attributes).includes("100 USD"),
          `${s.name} carries message text`,
        );

      // Log lines of both services for that turn carry the trace (and their span).
      const traceField = `projects/test-project/traces/${traceId}`;
      const agentLine = agent.logs().find((l) => l.message === "turn answered");
      assert.equal(agentLine?.["logging.googleapis.com/trace"], traceField);
      assert.equal(agentLine?.["logging.googleapis.com/spanId"], turn.spanId);
      assert.equal(agentLine?.["logging.googleapis.com/trace_sampled"], true);
      const mcpLine = mcp
        .logs()
        .find(
          (l) =>
            l.message === "tool get_exchange_rate" &&
            l["logging.googleapis.com/trace"] === traceField,
        );
      assert.equal(mcpLine?.["logging.googleapis.com/spanId"], server.spanId);
    });
  }

  for (const [transport, mcpPath] of [
    ["Streamable HTTP", "/mcp"],
    ["SSE", "/sse"],
  ] as const) {
    it(`sends the context in the traceparent header and in the request's _meta over ${transport}`, async () => {
      const sent: Array<{ headers: Headers; body: any }> = [];
      const recording: typeof fetch = async (url, init) => {
        if (typeof init?.body === "string")
          sent.push({ headers: new Headers(init.headers), body: JSON.parse(init.body) });
        return fetch(url, init);
      };
      const conn = new McpConnection({
        url: `${mcp.url}${mcpPath}`,
        transport: mcpPath === "/sse" ? "sse" : "streamable-http",
        fetch: recording,
        timeoutMs: 10_000,
        logger: silentLogger,
        version: "test",
      });
      const traceId = randomBytes(16).toString("hex");
      const parent = {
        traceId,
        spanId: randomBytes(8).toString("hex"),
        sampled: true,
        traceState: "vendor=1",
        baggage: "tenant=a",
      };
      let callSpan = "";
      try {
        await inSpan("test", { parent }, async () => {
          await conn.listTools();
          await inSpan("outer", {}, async (span) => {
            callSpan = span.context.spanId;
            assert.equal((await conn.callTool("list_currencies", {})).isError, false);
          });
        });
      } finally {
        await conn.close();
      }
      const call = sent.find((r) => r.body?.method === "tools/call");
      assert.ok(call, "the tools/call request was sent");
      const meta = call.body.params._meta as Record<string, string>;
      const header = call.headers.get("traceparent")!;
      // Tracing is off in this process: the MCP client span is ids only, a child of "outer".
      assert.match(header, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      assert.notEqual(header.split("-")[2], callSpan, "the MCP client span is its own span");
      assert.equal(meta.traceparent, header, "_meta and the header carry the same context");
      assert.equal(meta.tracestate, "vendor=1");
      assert.equal(meta.baggage, "tenant=a");
      assert.equal(call.headers.get("tracestate"), "vendor=1");
    });
  }

  it("continues X-Cloud-Trace-Context where no traceparent came", async () => {
    const agent = agents[0]!;
    const traceId = randomBytes(16).toString("hex");
    assert.equal(
      (
        await chat(
          agent,
          { message: "What is 3 USD in CHF?" },
          {
            "x-cloud-trace-context": `${traceId}/12345;o=1`,
          },
        )
      ).status,
      200,
    );
    const spans = await receiver.waitFor(
      (all) =>
        all.some((s) => s.traceId === traceId && s.service === "mcp-server") &&
        all.some((s) => s.traceId === traceId && s.name.startsWith("invoke_agent")),
    );
    const turn = one(
      spans.filter((s) => s.traceId === traceId),
      "agent-under-test",
      "invoke_agent currency-agent",
    );
    assert.equal(turn.parentSpanId, (12345).toString(16).padStart(16, "0"));
  });

  it("marks a failed tool call with error.type in both services", async () => {
    const agent = agents[0]!;
    const traceId = randomBytes(16).toString("hex");
    upstream.setMode("404");
    try {
      const r = await chat(
        agent,
        { message: "What is 100 USD in NOK?" },
        {
          traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
        },
      );
      assert.equal(r.status, 200);
      assert.equal(r.body.tool_calls[0]!.is_error, true);
    } finally {
      upstream.setMode("ok");
    }
    const spans = (
      await receiver.waitFor(
        (all) =>
          all.some((s) => s.traceId === traceId && s.name === "session_store save") &&
          all.some((s) => s.traceId === traceId && s.name === "GET"),
      )
    ).filter((s) => s.traceId === traceId);
    for (const [service, name, type] of [
      ["agent-under-test", "execute_tool get_exchange_rate", "tool_error"],
      ["agent-under-test", "tools/call get_exchange_rate", "tool_error"],
      ["mcp-server", "tools/call get_exchange_rate", "tool_error"],
    ] as const) {
      const span = one(spans, service, name);
      assert.equal(span.attributes["error.type"], type, `${service} ${name}`);
      assert.equal(span.status.code, 2, `${service} ${name} has status ERROR`);
    }
    const refused = spans.find(
      (s) => s.name === "GET" && s.attributes["http.response.status_code"] === 404,
    );
    assert.equal(refused?.attributes["error.type"], "404");
    assert.equal(
      refused?.parentSpanId,
      one(spans, "mcp-server", "tools/call get_exchange_rate").spanId,
    );
  });

  it("puts message text and tool arguments in spans only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT asks", async () => {
    const agent = await startService("agent", {
      ...OTEL,
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "offline",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "agent-content",
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "SPAN_ONLY",
    });
    agents.push(agent);
    const traceId = randomBytes(16).toString("hex");
    const r = await chat(
      agent,
      { message: "What is 12 USD in EUR?" },
      {
        traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
      },
    );
    assert.equal(r.status, 200);
    const spans = (
      await receiver.waitFor((all) =>
        all.some((s) => s.traceId === traceId && s.name.startsWith("invoke_agent")),
      )
    ).filter((s) => s.traceId === traceId);
    const turn = one(spans, "agent-content", "invoke_agent currency-agent");
    assert.match(String(turn.attributes["gen_ai.input.messages"]), /What is 12 USD in EUR\?/);
    assert.equal(
      JSON.parse(String(turn.attributes["gen_ai.output.messages"]))[0].parts[0].content,
      r.body.response,
    );
    const tool = one(spans, "agent-content", "execute_tool get_exchange_rate");
    assert.equal(
      JSON.parse(String(tool.attributes["gen_ai.tool.call.arguments"])).currency_to,
      "EUR",
    );
    assert.match(String(tool.attributes["gen_ai.tool.call.result"]), /12 USD = /);
  });

  it("traces a streamed turn the same way", async () => {
    const agent = agents[0]!;
    const traceId = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const res = await fetch(`${agent.url}/chat/stream`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ message: "What is 9 USD in EUR?" }),
    });
    assert.match(await res.text(), /event: done/);
    const spans = (
      await receiver.waitFor(
        (all) =>
          all.some((s) => s.traceId === traceId && s.service === "mcp-server") &&
          all.some((s) => s.traceId === traceId && s.name.startsWith("invoke_agent")),
      )
    ).filter((s) => s.traceId === traceId);
    assert.equal(
      one(spans, "agent-under-test", "invoke_agent currency-agent").parentSpanId,
      callerSpan,
    );
    const lines = agent
      .logs()
      .filter(
        (l) =>
          l.message === "turn answered" &&
          l["logging.googleapis.com/trace"] === `projects/test-project/traces/${traceId}`,
      );
    assert.equal(lines.length, 1);
  });

  it("flushes queued spans on SIGTERM", async () => {
    // Batches every 10 minutes: only the SIGTERM flush can send this turn's spans before the process ends.
    const agent = await startService("agent", {
      ...OTEL,
      OTEL_BSP_SCHEDULE_DELAY: "600000",
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "offline",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "agent-sigterm",
    });
    const traceId = randomBytes(16).toString("hex");
    assert.equal(
      (
        await chat(
          agent,
          { message: "What is 11 USD in EUR?" },
          {
            traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
          },
        )
      ).status,
      200,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      receiver.spans.filter((s) => s.traceId === traceId && s.service === "agent-sigterm").length,
      0,
      "nothing sent before SIGTERM",
    );
    assert.equal(await agent.stop(), 0);
    assert.ok(
      receiver.spans.some(
        (s) =>
          s.traceId === traceId &&
          s.service === "agent-sigterm" &&
          s.name === "invoke_agent currency-agent",
      ),
    );
  });

  it("answers every chat while the receiver refuses or hangs, and logs the export failure once", async () => {
    const agent = agents[0]!;
    receiver.setMode("refuse");
    for (const n of [1, 2, 3])
      assert.equal((await chat(agent, { message: `What is ${n} USD in EUR?` })).status, 200);
    const failed = (s: RunningService): number =>
      s.logs().filter((l) => /span export failed/.test(String(l.message))).length;
    const until = Date.now() + 20_000;
    while ((failed(agent) === 0 || failed(mcp) === 0) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(failed(agent), 1);
    receiver.setMode("hang");
    for (const n of [4, 5, 6]) {
      const r = await chat(agent, { message: `What is ${n} USD in GBP?` });
      assert.equal(r.status, 200);
      await new Promise((r) => setTimeout(r, 150)); // let batches go out (and hang)
    }
    assert.equal(failed(agent), 1, "logged once, not per batch");
    assert.equal(failed(mcp), 1, "logged once, not per batch");
    receiver.setMode("ok");
  });

  it("logs the OTLP endpoint without its credentials and query, and never the OTLP headers", async () => {
    const agent = await startService("agent", {
      ...OTEL,
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "offline",
      ...secretOtlpSettings(receiver.url),
    });
    try {
      assert.equal((await chat(agent, { message: "What is 2 USD in EUR?" })).status, 200);
      await expectRedactedEndpoint(agent.logs, receiver.url);
    } finally {
      await agent.stop();
    }
    expectNoOtlpSecret(agent.output());
  });

  it("loads the OpenTelemetry SDK only when asked to export", async () => {
    const off = await startService(
      "agent",
      {
        MCP_SERVER_URL: `${mcp.url}/mcp`,
        MODEL_PROVIDER: "offline",
        GOOGLE_CLOUD_PROJECT: "test-project",
      },
      { command: command("agent") },
    );
    const traceId = randomBytes(16).toString("hex");
    assert.equal(
      (
        await chat(
          off,
          { message: "What is 7 USD in EUR?" },
          {
            traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
          },
        )
      ).status,
      200,
    );
    // Logs join the trace with tracing off too.
    assert.equal(
      off.logs().find((l) => l.message === "turn answered")?.["logging.googleapis.com/trace"],
      `projects/test-project/traces/${traceId}`,
    );
    await off.stop();
    assert.match(off.output(), /otel-sdk-loaded=false/);
    const on = agents[0]!;
    await on.stop();
    assert.match(on.output(), /otel-sdk-loaded=true/);
    // The same for the mcp-server.
    const mcpOff = await startService(
      "mcp-server",
      { FRANKFURTER_URL: upstream.url },
      { command: command("mcp-server") },
    );
    assert.equal((await fetch(`${mcpOff.url}/health`)).status, 200);
    await mcpOff.stop();
    assert.match(mcpOff.output(), /otel-sdk-loaded=false/);
    await mcp.stop();
    assert.match(mcp.output(), /otel-sdk-loaded=true/);
  });
});
