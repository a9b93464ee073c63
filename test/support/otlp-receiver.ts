// An OTLP/HTTP trace receiver for tests only: what an OpenTelemetry Collector's otlphttp receiver
// (or Google's Telemetry API) does with `POST /v1/traces`, decoding both encodings.
//
// Follows the OTLP specification, https://opentelemetry.io/docs/specs/otlp/#otlphttp (OTLP 1.x; the
// search tool returned only the OTEP texts behind it, open-telemetry/opentelemetry-specification
// oteps/0099-otlp-http.md and 0122-otlp-http-json.md, read 2026-11-25):
// - POST only, to /v1/traces; the body is an ExportTraceServiceRequest, binary protobuf with
//   `Content-Type: application/x-protobuf` or proto3-JSON with `application/json` (trace and span
//   ids as hex strings there, not base64; enums as integers); anything else: 415 Unsupported Media Type;
//   `Content-Encoding: gzip` is accepted; a body that does not decode: 400.
// - Success: 200 with an ExportTraceServiceResponse in the request's own encoding and Content-Type.
// - Refusal: 503 (retryable) with a google.rpc.Status body; a receiver that hangs never answers.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface ReceivedSpan {
  service: string | undefined;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

export type ReceiverMode = "ok" | "refuse" | "hang";

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the requests it accepted. */
  contentTypes: string[];
  requests: number;
  setMode(mode: ReceiverMode): void;
  /** Resolves once spans matching `pred` have arrived (the exporter batches: they come later). */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(
  opts: { port?: number; host?: string } = {},
): Promise<OtlpReceiver> {
  let mode: ReceiverMode = "ok";
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const hanging: ServerResponse[] = [];
  let requests = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests++;
      const path = new URL(req.url ?? "/", "http://x").pathname;
      // Not OTLP: how a test reads what a receiver in a container got (the container suite).
      if (path === "/test/spans" && req.method === "GET")
        return send(res, 200, "application/json", JSON.stringify(spans));
      if (path !== "/v1/traces") return send(res, 404, "text/plain", "404 page not found\n");
      if (req.method !== "POST")
        return send(res, 405, "text/plain", "405 method not allowed, supported: [POST]\n");
      const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "application/x-protobuf" && type !== "application/json") {
        return send(
          res,
          415,
          "text/plain",
          `415 unsupported media type, supported: [application/json, application/x-protobuf]\n`,
        );
      }
      if (mode === "hang") return void hanging.push(res);
      if (mode === "refuse")
        return send(
          res,
          503,
          "application/json",
          JSON.stringify({ code: 14, message: "Service Unavailable" }),
        );
      let body = Buffer.concat(chunks);
      try {
        if ((req.headers["content-encoding"] ?? "").toLowerCase() === "gzip")
          body = gunzipSync(body);
        const decoded =
          type === "application/json"
            ? fromJson(JSON.parse(body.toString("utf8")))
            : fromProtobuf(body);
        spans.push(...decoded);
        contentTypes.push(type);
      } catch (err) {
        return send(
          res,
          400,
          "application/json",
          JSON.stringify({
            code: 3,
            message: `unable to decode request: ${(err as Error).message}`,
          }),
        );
      }
      // An empty ExportTraceServiceResponse: no partial_success.
      if (type === "application/json") send(res, 200, "application/json", "{}");
      else send(res, 200, "application/x-protobuf", Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1"}:${port}`,
    spans,
    contentTypes,
    get requests() {
      return requests;
    },
    setMode(m) {
      mode = m;
    },
    async waitFor(pred, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(spans)) {
        if (Date.now() > until)
          throw new Error(
            `spans did not arrive in time; got: ${spans.map((s) => `${s.service}:${s.name}`).join(", ")}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type });
  res.end(body);
}

// ------------------------------------------------------------------------------------------- JSON

type Json = Record<string, any>;
function fromJson(req: Json): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const service = jsonAttrs(rs.resource?.attributes)["service.name"] as string | undefined;
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        for (const id of [s.traceId, s.spanId])
          if (typeof id !== "string" || !/^[0-9a-f]+$/.test(id))
            throw new Error(`ids must be hex strings, got ${JSON.stringify(id)}`);
        out.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: Number(s.kind ?? 0),
          attributes: jsonAttrs(s.attributes),
          status: {
            code: Number(s.status?.code ?? 0),
            ...(s.status?.message ? { message: s.status.message } : {}),
          },
        });
      }
    }
  }
  return out;
}
function jsonAttrs(list: Json[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}
function jsonValue(v: Json | undefined): unknown {
  if (!v) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

// --------------------------------------------------------------------------------------- protobuf
// Just enough of the wire format (https://protobuf.dev/programming-guides/encoding/) for the fields of
// opentelemetry/proto/trace/v1/trace.proto this suite reads; unknown fields are skipped as the spec says.

type Field = { no: number; wire: number; value: bigint | Buffer };
function* fields(buf: Buffer): Generator<Field> {
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      yield { no, wire, value: buf.subarray(i, i + 8) };
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error("truncated field");
      yield { no, wire, value: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 5) {
      yield { no, wire, value: buf.subarray(i, i + 4) };
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}
const bytes = (f: Field): Buffer => f.value as Buffer;

function fromProtobuf(buf: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(buf)) {
    if (rs.no !== 1) continue; // resource_spans
    let service: string | undefined;
    const scopeSpans: Buffer[] = [];
    for (const f of fields(bytes(rs))) {
      if (f.no === 1) {
        for (const r of fields(bytes(f)))
          if (r.no === 1) {
            const [k, v] = pbKeyValue(bytes(r));
            if (k === "service.name") service = v as string;
          }
      } else if (f.no === 2) scopeSpans.push(bytes(f));
    }
    for (const ss of scopeSpans) {
      for (const f of fields(ss)) {
        if (f.no !== 2) continue; // spans
        const span: ReceivedSpan = {
          service,
          traceId: "",
          spanId: "",
          parentSpanId: "",
          name: "",
          kind: 0,
          attributes: {},
          status: { code: 0 },
        };
        for (const s of fields(bytes(f))) {
          if (s.no === 1) span.traceId = bytes(s).toString("hex");
          else if (s.no === 2) span.spanId = bytes(s).toString("hex");
          else if (s.no === 4) span.parentSpanId = bytes(s).toString("hex");
          else if (s.no === 5) span.name = bytes(s).toString("utf8");
          else if (s.no === 6) span.kind = Number(s.value);
          else if (s.no === 9) {
            const [k, v] = pbKeyValue(bytes(s));
            span.attributes[k] = v;
          } else if (s.no === 15) {
            for (const st of fields(bytes(s))) {
              if (st.no === 2) span.status.message = bytes(st).toString("utf8");
              if (st.no === 3) span.status.code = Number(st.value);
            }
          }
        }
        if (span.traceId.length !== 32 || span.spanId.length !== 16)
          throw new Error("span without valid trace_id/span_id");
        out.push(span);
      }
    }
  }
  return out;
}
function pbKeyValue(buf: Buffer): [string, unknown] {
  let key = "";
  let value: unknown;
  for (const f of fields(buf)) {
    if (f.no === 1) key = bytes(f).toString("utf8");
    else if (f.no === 2) value = pbAnyValue(bytes(f));
  }
  return [key, value];
}
function pbAnyValue(buf: Buffer): unknown {
  for (const f of fields(buf)) {
    if (f.no === 1) return bytes(f).toString("utf8");
    if (f.no === 2) return f.value === 1n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) return bytes(f).readDoubleLE(0);
    if (f.no === 5)
      return [...fields(bytes(f))].filter((v) => v.no === 1).map((v) => pbAnyValue(bytes(v)));
  }
  return undefined;
}

// CLI: node --import tsx test/support/otlp-receiver.ts [--port N] [--host H]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const receiver = await startOtlpReceiver({
    port: Number(arg("--port") ?? 0),
    host: arg("--host") ?? "127.0.0.1",
  });
  console.log(JSON.stringify({ url: receiver.url }));
  const stop = (): void => void receiver.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// ------------------------------------------------------------------------------- secrets in settings

/** What secretOtlpSettings puts in the settings: none of it may reach a log. */
export const OTLP_SECRETS = [
  "otlp-password-3141",
  "otlp-query-key-2718",
  "otlp-header-key-1618",
] as const;

/**
 * OTLP settings for `receiverUrl` carrying a password (user:password@), an API key in the query and
 * one in OTEL_EXPORTER_OTLP_HEADERS, as collectors and SaaS backends are configured. The query runs
 * to the end of the URL and swallows the /v1/traces the exporter appends, so the receiver answers
 * 404 and the export failure is logged as well as the start-up line.
 */
export function secretOtlpSettings(receiverUrl: string): Record<string, string> {
  const url = new URL(receiverUrl);
  const [password, query, header] = OTLP_SECRETS;
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://otlp-user:${password}@${url.host}?api_key=${query}`,
    OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${header}`,
  };
}

/**
 * Waits (up to 10 s) for a service started with secretOtlpSettings to log its export failure; that
 * line and the "tracing on" one must both name the endpoint without its userinfo or query.
 */
export async function expectRedactedEndpoint(
  logs: () => Array<Record<string, unknown>>,
  receiverUrl: string,
): Promise<void> {
  const failed = () => logs().find((l) => /span export failed/.test(String(l.message)));
  for (let i = 0; i < 200 && !failed(); i++) await new Promise((r) => setTimeout(r, 50));
  const on = logs().find((l) => /^tracing on/.test(String(l.message)));
  assert.equal(on?.endpoint, `${receiverUrl}/ (query removed)`);
  assert.equal(failed()?.endpoint, `${receiverUrl}/ (query removed)`);
}

/** None of secretOtlpSettings' secrets, nor its user name, anywhere in a service's output. */
export function expectNoOtlpSecret(output: string): void {
  for (const secret of [...OTLP_SECRETS, "otlp-user"])
    assert.ok(!output.includes(secret), `${secret} in the logs:\n${output}`);
}
