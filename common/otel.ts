// Loaded only when spans are exported (tracing.ts): the OpenTelemetry SDK records trace-context.ts's
// spans and exports them over OTLP/HTTP as the standard OTEL_* settings say.
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span as OtelSpan,
} from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from "@opentelemetry/otlp-exporter-base/node-http";
import { JsonTraceSerializer, TraceExporterMetricsHelper } from "@opentelemetry/otlp-transformer";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "./log.js";
import { redactText, redactUrl } from "./redact.js";
import type { Span, SpanBackend, SpanContext } from "./trace-context.js";

type Env = Record<string, string | undefined>;

export interface Tracing {
  /** Exports what is queued; never takes longer than `timeoutMs`, never throws. */
  flush(timeoutMs: number): Promise<void>;
}

export interface TracingOptions {
  /** OTEL_SERVICE_NAME wins over this. */
  serviceName: string;
  version: string;
  /** Headers for Google's Telemetry API (OAuth access tokens); the metadata server's otherwise. */
  googleAuthHeaders?: () => Promise<Record<string, string>>;
}

/** Set when this module is evaluated: the test that proves tracing-off loads no SDK reads it. */
(globalThis as { __otelSdkLoaded?: boolean }).__otelSdkLoaded = true;

const KINDS = { internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT };

/** The OTLP/HTTP exporter the OTEL_EXPORTER_OTLP_* settings ask for, and where it sends (redacted). */
function createExporter(env: Env, opts: TracingOptions) {
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    "http/protobuf"
  ).trim();
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new Error(
      `OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not supported here; use http/protobuf or http/json`,
    );
  }
  const setting = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, "");
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    (base ? `${base}/v1/traces` : "http://localhost:4318/v1/traces");
  // Not echoed: a value that fails to parse can still hold a password.
  const host = URL.parse(endpoint)?.hostname;
  if (host === undefined) throw new Error(`${setting}: not a URL`);
  // Google's Telemetry API takes an OAuth access token; other receivers get OTEL_EXPORTER_OTLP_HEADERS.
  const google = /(^|\.)googleapis\.com$/.test(host);
  const config = google ? { headers: opts.googleAuthHeaders ?? metadataTokenHeaders(env) } : {};
  const exporter: SpanExporter =
    protocol === "http/protobuf"
      ? new ProtobufExporter(config)
      : new OTLPExporterBase(
          createOtlpHttpExportDelegate(
            convertLegacyHttpOptions(config, "TRACES", "v1/traces", {
              "Content-Type": "application/json",
            }),
            JsonTraceSerializer,
            "otlp_http_json_span_exporter",
            TraceExporterMetricsHelper,
            undefined,
          ),
        );
  // The SDK sends to `endpoint` as set (userinfo as Basic auth); logs see it redacted, headers never.
  return { exporter, endpoint: redactUrl(endpoint), protocol };
}

export function startOtel(
  env: Env,
  logger: Logger,
  opts: TracingOptions,
): Tracing & { backend: SpanBackend } {
  const { exporter, endpoint, protocol } = createExporter(env, opts);
  const processor = new BatchSpanProcessor({
    exporter: reportingOnce(exporter, logger, endpoint),
    ...num(env.OTEL_BSP_SCHEDULE_DELAY, "scheduledDelayMillis"),
    ...num(env.OTEL_BSP_EXPORT_TIMEOUT, "exportTimeoutMillis"),
    ...num(env.OTEL_BSP_MAX_QUEUE_SIZE, "maxQueueSize"),
    ...num(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "maxExportBatchSize"),
  });
  // The queue is bounded in spans (OTEL_BSP_MAX_QUEUE_SIZE) and each value in length.
  const valueLimit = Number(
    env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT || env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT || 8192,
  );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": opts.serviceName,
      "service.version": opts.version,
    }).merge(detectResources({ detectors: [envDetector] })),
    sampler: samplerFromEnv(env, logger),
    spanProcessors: [processor],
    spanLimits: {
      attributeValueLengthLimit: Number.isFinite(valueLimit) && valueLimit > 0 ? valueLimit : 8192,
      attributeCountLimit: 128,
    },
  });
  const tracer = provider.getTracer(opts.serviceName, opts.version);
  logger.log("INFO", "tracing on: spans exported over OTLP", {
    endpoint,
    protocol,
    sampler: env.OTEL_TRACES_SAMPLER || "parentbased_always_on",
  });
  return {
    backend: {
      start: (name, kind, parent, attributes) => {
        const span = tracer.startSpan(name, { kind: KINDS[kind], attributes }, remote(parent));
        return sdkSpan(span, parent);
      },
    },
    flush: (timeoutMs) =>
      Promise.race([
        provider.forceFlush({ timeoutMillis: timeoutMs }).catch(() => undefined),
        new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.()),
      ]),
  };
}

/** The OpenTelemetry context of a parent that came from elsewhere (a header, `_meta`). */
function remote(parent: SpanContext | undefined) {
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? 1 : 0,
    isRemote: true,
    ...(parent.traceState ? { traceState: createTraceState(parent.traceState) } : {}),
  });
}

function sdkSpan(span: OtelSpan, parent: SpanContext | undefined): Span {
  const { traceId, spanId, traceFlags } = span.spanContext();
  let errored = false;
  return {
    context: { ...parent, traceId, spanId, sampled: (traceFlags & 1) === 1 },
    setAttributes: (attributes) => span.setAttributes(attributes),
    // The first error says what failed; outer handlers rethrowing it don't rename it.
    setError(type, message) {
      if (errored) return;
      errored = true;
      span.setAttribute("error.type", type);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
    },
    end: () => span.end(),
  };
}

/** The instance's service-account token from the metadata server, cached until a minute before expiry. */
export function metadataTokenHeaders(env: Env): () => Promise<Record<string, string>> {
  const host = env.GCE_METADATA_HOST || "metadata.google.internal";
  let cached: { value: string; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return { authorization: cached.value };
    const res = await fetch(
      `http://${host}/computeMetadata/v1/instance/service-accounts/default/token`,
      { headers: { "Metadata-Flavor": "Google" }, signal: AbortSignal.timeout(5000) },
    );
    if (!res.ok) throw new Error(`metadata server token: HTTP ${res.status}`);
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error("metadata server token: no access_token");
    const until = Date.now() + Math.max(0, (body.expires_in ?? 0) - 60) * 1000;
    cached = { value: `Bearer ${body.access_token}`, until };
    return { authorization: cached.value };
  };
}

function num<K extends string>(value: string | undefined, key: K): Partial<Record<K, number>> {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? ({ [key]: n } as Record<K, number>) : {};
}

const ROOT_SAMPLERS: Record<string, (ratio: number) => Sampler> = {
  always_on: () => new AlwaysOnSampler(),
  always_off: () => new AlwaysOffSampler(),
  traceidratio: (ratio) => new TraceIdRatioBasedSampler(ratio),
};

/** OTEL_TRACES_SAMPLER and its _ARG as the specification lists them; default parentbased_always_on. */
function samplerFromEnv(env: Env, logger: Logger): Sampler {
  let name = (env.OTEL_TRACES_SAMPLER || "parentbased_always_on").trim().toLowerCase();
  if (!ROOT_SAMPLERS[name.replace(/^parentbased_/, "")]) {
    logger.log(
      "WARNING",
      `OTEL_TRACES_SAMPLER: unknown sampler ${name}; using parentbased_always_on`,
    );
    name = "parentbased_always_on";
  }
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const root = ROOT_SAMPLERS[name.replace(/^parentbased_/, "")]!(
    Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1,
  );
  return name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root;
}

/** A receiver that refuses or hangs is logged once (and again when it works), not per batch. */
function reportingOnce(exporter: SpanExporter, logger: Logger, endpoint: string): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          if (failing) logger.log("INFO", "span export works again", { endpoint });
          failing = false;
        } else if (!failing) {
          failing = true;
          const error = redactText(String(result.error?.message ?? result.error ?? "unknown"));
          logger.log(
            "WARNING",
            "span export failed; spans are dropped until it works again (logged once)",
            { endpoint, error: error.slice(0, 300) },
          );
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
