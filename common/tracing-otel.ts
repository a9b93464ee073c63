// Loaded only when tracing is on (tracing.ts): the OpenTelemetry SDK records the spans of trace.ts and
// exports them in batches over OTLP/HTTP, JSON or protobuf, as the standard OTEL_* settings say.
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span as OtelSpan,
} from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
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
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "./log.js";
import { redactText, redactUrl } from "./redact.js";
import type { Attributes, Span, SpanBackend, SpanContext, SpanKind as Kind } from "./trace.js";
import type { Tracing, TracingOptions } from "./tracing.js";

/** Set when this module is evaluated: the test that proves tracing-off loads no SDK reads it. */
(globalThis as { __otelSdkLoaded?: boolean }).__otelSdkLoaded = true;

const KINDS: Record<Kind, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
};

/** The OTLP/HTTP exporter the OTEL_EXPORTER_OTLP_* settings ask for, and where it sends (redacted). */
function createExporter(
  env: Record<string, string | undefined>,
  opts: TracingOptions,
): { exporter: SpanExporter; endpoint: string; protocol: string } {
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
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, "");
  const setting = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    (base ? `${base}/v1/traces` : "http://localhost:4318/v1/traces");
  let host = "";
  try {
    host = new URL(endpoint).hostname;
  } catch {
    // Not echoed: a value that fails to parse can still hold a password.
    throw new Error(`${setting}: not a URL`);
  }
  // Google's Telemetry API takes an OAuth access token; any other receiver gets what OTEL_EXPORTER_OTLP_HEADERS says.
  const google = /(^|\.)googleapis\.com$/.test(host);
  const config = google ? { headers: opts.googleAuthHeaders ?? metadataTokenHeaders(env) } : {};
  const exporter: SpanExporter =
    protocol === "http/json"
      ? new OTLPExporterBase(
          createOtlpHttpExportDelegate(
            convertLegacyHttpOptions(config, "TRACES", "v1/traces", {
              "Content-Type": "application/json",
            }),
            JsonTraceSerializer,
            "otlp_http_json_span_exporter",
            TraceExporterMetricsHelper,
            undefined,
          ),
        )
      : new ProtobufExporter(config);
  // The SDK sends to `endpoint` as set (userinfo as Basic auth); logs only ever see it redacted.
  // OTEL_EXPORTER_OTLP_HEADERS (API keys) go to the exporter alone and are never logged.
  return { exporter, endpoint: redactUrl(endpoint), protocol };
}

/** The OpenTelemetry context of a parent that came from elsewhere (a header, `_meta`). */
function remote(parent: SpanContext | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? 1 : 0,
    isRemote: true,
    ...(parent.traceState ? { traceState: createTraceState(parent.traceState) } : {}),
  });
}

export function startOtel(
  env: Record<string, string | undefined>,
  logger: Logger,
  opts: TracingOptions,
): Tracing & { backend: SpanBackend } {
  const { exporter, endpoint, protocol } = createExporter(env, opts);
  const resource = resourceFromAttributes({
    "service.name": opts.serviceName,
    "service.version": opts.version,
  }).merge(detectResources({ detectors: [envDetector] }));
  const processor = new BatchSpanProcessor({
    exporter: reportingOnce(exporter, logger, endpoint),
    ...num(env.OTEL_BSP_SCHEDULE_DELAY, "scheduledDelayMillis"),
    ...num(env.OTEL_BSP_EXPORT_TIMEOUT, "exportTimeoutMillis"),
    ...num(env.OTEL_BSP_MAX_QUEUE_SIZE, "maxQueueSize"),
    ...num(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "maxExportBatchSize"),
  });
  // The queue is bounded in spans (OTEL_BSP_MAX_QUEUE_SIZE, 2048); attribute values are bounded too, so
  // that captured message content (when opted in) cannot make a queued span large.
  const valueLimit = Number(
    env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT || env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT || 8192,
  );
  const spanLimits = {
    attributeValueLengthLimit: Number.isFinite(valueLimit) && valueLimit > 0 ? valueLimit : 8192,
    attributeCountLimit: 128,
  };
  const provider = new TracerProvider({
    resource,
    sampler: samplerFromEnv(env, logger),
    spanProcessors: [processor],
    spanLimits,
  });
  const tracer = provider.getTracer(opts.serviceName, opts.version);
  logger.log("INFO", "tracing on: spans exported over OTLP", {
    endpoint,
    protocol,
    sampler: env.OTEL_TRACES_SAMPLER || "parentbased_always_on",
  });

  const backend: SpanBackend = {
    start(name, kind, parent, attributes) {
      const span = tracer.startSpan(
        name,
        { kind: KINDS[kind], attributes: clean(attributes) },
        remote(parent),
      );
      return new SdkSpan(span, parent);
    },
  };
  return {
    backend,
    async flush(timeoutMs) {
      await Promise.race([
        provider.forceFlush({ timeoutMillis: timeoutMs }).catch(() => undefined),
        new Promise((r) => setTimeout(r, timeoutMs).unref?.()),
      ]);
    },
  };
}

/**
 * The instance's service-account token from the metadata server (Cloud Run, GCE), cached until a
 * minute before it expires: all an exporter on Cloud Run needs, without google-auth-library.
 */
export function metadataTokenHeaders(
  env: Record<string, string | undefined>,
): () => Promise<Record<string, string>> {
  const host = env.GCE_METADATA_HOST || "metadata.google.internal";
  let cached: { value: string; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return { authorization: cached.value };
    const res = await fetch(
      `http://${host}/computeMetadata/v1/instance/service-accounts/default/token`,
      {
        headers: { "Metadata-Flavor": "Google" },
        signal: AbortSignal.timeout(5000),
      },
    );
    if (!res.ok) throw new Error(`metadata server token: HTTP ${res.status}`);
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error("metadata server token: no access_token");
    cached = {
      value: `Bearer ${body.access_token}`,
      until: Date.now() + Math.max(0, (body.expires_in ?? 0) - 60) * 1000,
    };
    return { authorization: cached.value };
  };
}

class SdkSpan implements Span {
  readonly context: SpanContext;
  #errored = false;
  constructor(
    private readonly span: OtelSpan,
    parent: SpanContext | undefined,
  ) {
    const sc = span.spanContext();
    this.context = {
      traceId: sc.traceId,
      spanId: sc.spanId,
      sampled: (sc.traceFlags & 1) === 1,
      traceState: parent?.traceState,
      baggage: parent?.baggage,
    };
  }
  setAttributes(attributes: Attributes): void {
    this.span.setAttributes(clean(attributes));
  }
  /** The first error is the one that says what failed; outer handlers rethrowing it don't rename it. */
  setError(type: string, message?: string): void {
    if (this.#errored) return;
    this.#errored = true;
    this.span.setAttribute("error.type", type);
    this.span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  }
  end(): void {
    this.span.end();
  }
}

function clean(attributes: Attributes): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}

function num<K extends string>(value: string | undefined, key: K): Partial<Record<K, number>> {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? ({ [key]: n } as Record<K, number>) : {};
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification lists them; default parentbased_always_on. */
export function samplerFromEnv(env: Record<string, string | undefined>, logger: Logger): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER || "parentbased_always_on").trim().toLowerCase();
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      logger.log(
        "WARNING",
        `OTEL_TRACES_SAMPLER: unknown sampler ${name}; using parentbased_always_on`,
      );
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * A receiver that refuses or hangs is logged once, not per batch (and once more when export works
 * again): the batches themselves are dropped by the SDK, off the request path.
 */
function reportingOnce(exporter: SpanExporter, logger: Logger, endpoint: string): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          if (failing) logger.log("INFO", "span export works again", { endpoint });
          failing = false;
        } else if (!failing) {
          failing = true;
          const error = String(result.error?.message ?? result.error ?? "unknown");
          logger.log(
            "WARNING",
            "span export failed; spans are dropped until it works again (logged once)",
            { endpoint, error: redactText(error).slice(0, 300) },
          );
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
