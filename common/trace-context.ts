// The request's trace context (W3C Trace Context, or Cloud Run's X-Cloud-Trace-Context): carried
// through async calls, stamped on log lines, passed to the next hop. Always loaded and free of the
// OpenTelemetry SDK: with tracing off a span is ids only; otel.ts, loaded by tracing.ts when spans
// are exported, records them.
import { AsyncLocalStorage } from "node:async_hooks";
// The W3C parser alone: @opentelemetry/core has no side effects, so the bundle keeps only this.
import { parseTraceParent } from "@opentelemetry/core";

export interface SpanContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
  traceState?: string | undefined;
  baggage?: string | undefined;
}
export type SpanKind = "internal" | "server" | "client";
export type Attributes = Record<string, string | number | boolean | string[] | undefined>;

export interface Span {
  readonly context: SpanContext;
  setAttributes(attributes: Attributes): void;
  /** Marks the span failed: `error.type` (a low-cardinality class or code) and a status message. */
  setError(type: string, message?: string): void;
  end(): void;
}

/** What records spans: ids only here, or the OpenTelemetry SDK once loaded. */
export interface SpanBackend {
  start(name: string, kind: SpanKind, parent: SpanContext | undefined, attrs: Attributes): Span;
}

const ZERO_SPAN = "0".repeat(16);

function randomHex(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header); undefined when invalid. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const parsed = value ? parseTraceParent(value.trim().toLowerCase()) : null;
  if (!parsed) return undefined;
  return { traceId: parsed.traceId, spanId: parsed.spanId, sampled: (parsed.traceFlags & 1) === 1 };
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` (span id in decimal) → the same context. */
export function parseCloudTraceContext(value: string | null | undefined): SpanContext | undefined {
  const m = value ? /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?/.exec(value.trim()) : null;
  if (!m || /^0+$/.test(m[1]!)) return undefined;
  // 20 digits can exceed 64 bits: the low 64 are kept. No parent span id: a new one stands in.
  const decimal = m[2] ? BigInt(m[2]).toString(16).padStart(16, "0").slice(-16) : ZERO_SPAN;
  const spanId = decimal === ZERO_SPAN ? randomHex(8) : decimal;
  return { traceId: m[1]!.toLowerCase(), spanId, sampled: m[3] === "1" };
}

/** The caller's context: `traceparent` (with `tracestate`, `baggage`) first, else X-Cloud-Trace-Context. */
export function incomingContext(headers: {
  get(name: string): string | null | undefined;
}): SpanContext | undefined {
  const w3c = parseTraceparent(headers.get("traceparent"));
  if (!w3c) return parseCloudTraceContext(headers.get("x-cloud-trace-context"));
  const traceState = headers.get("tracestate") || undefined;
  const baggage = headers.get("baggage") || undefined;
  return { ...w3c, ...(traceState ? { traceState } : {}), ...(baggage ? { baggage } : {}) };
}

/** A context from an MCP request's `_meta` (SEP-414: `traceparent`, `tracestate`, `baggage`). */
export function contextFromMeta(
  meta: Record<string, unknown> | undefined,
): SpanContext | undefined {
  const get = (key: string): string | undefined => {
    const value = meta?.[key];
    return typeof value === "string" ? value : undefined;
  };
  return meta && incomingContext({ get });
}

/** The headers (and MCP `_meta` keys) that carry a context to the next hop. */
export function propagationFields(
  ctx: SpanContext | undefined = currentSpan()?.context,
): Record<string, string> {
  if (!ctx) return {};
  return {
    traceparent: `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`,
    ...(ctx.traceState ? { tracestate: ctx.traceState } : {}),
    ...(ctx.baggage ? { baggage: ctx.baggage } : {}),
  };
}

function idSpan(context: SpanContext): Span {
  return { context, setAttributes() {}, setError() {}, end() {} };
}

// Tracing off: a fresh span id in the caller's trace (or a new one), so log lines and the next hop
// still say where they are; the sampled flag is passed on, never set here.
let backend: SpanBackend = {
  start: (_name, _kind, parent) =>
    idSpan({
      ...parent,
      traceId: parent?.traceId ?? randomHex(16),
      spanId: randomHex(8),
      sampled: parent?.sampled ?? false,
    }),
};
let content = false;

export function setSpanBackend(b: SpanBackend, opts: { captureContent?: boolean } = {}): void {
  backend = b;
  content = opts.captureContent === true;
}

/** Whether spans may carry message text and tool arguments: only when exported and opted in. */
export function captureContent(): boolean {
  return content;
}

const current = new AsyncLocalStorage<Span>();

export function currentSpan(): Span | undefined {
  return current.getStore();
}

/** Runs `fn` with the caller's context current (no span of its own): log lines join the caller's trace. */
export function withRemoteContext<T>(ctx: SpanContext | undefined, fn: () => T): T {
  return ctx ? current.run(idSpan(ctx), fn) : fn();
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the current span. `null`: a new trace. */
  parent?: SpanContext | null | undefined;
  /** false: `fn` passes `span.context` on itself (an AsyncLocalStorage costs the mcp-server ~8% CPU). */
  current?: boolean;
}

/** Runs `fn` in a new span, current for what it calls; a throw marks it with the error's code or class. */
export async function inSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent === null ? undefined : (opts.parent ?? current.getStore()?.context);
  const span = backend.start(name, opts.kind ?? "internal", parent, opts.attributes ?? {});
  try {
    return await (opts.current === false ? fn(span) : current.run(span, () => fn(span)));
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const type = typeof code === "string" ? code : err instanceof Error ? err.name : "Error";
    span.setError(type, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    span.end();
  }
}

let project: string | undefined;
let projectLookup: (() => void) | undefined;

/** The project log lines name their trace in; on Cloud Run asked of the metadata server once, lazily. */
export function configureTraceProject(
  env: Record<string, string | undefined>,
  fetchImpl: typeof fetch = fetch,
): void {
  project = env.GOOGLE_CLOUD_PROJECT || undefined;
  projectLookup = undefined;
  if (project || !env.K_SERVICE) return;
  const host = env.GCE_METADATA_HOST || "metadata.google.internal";
  projectLookup = () => {
    projectLookup = undefined;
    void fetchImpl(`http://${host}/computeMetadata/v1/project/project-id`, {
      headers: { "Metadata-Flavor": "Google" },
      signal: AbortSignal.timeout(2000),
    })
      .then((res) => (res.headers.get("metadata-flavor") === "Google" && res.ok ? res.text() : ""))
      .then((id) => {
        // Project ids, domain-scoped ones too (example.com:project).
        if (/^[\w.:-]{1,100}$/.test(id.trim())) project = id.trim();
      })
      .catch(() => undefined);
  };
}

/** Cloud Logging's trace fields for the current span: the line nests under its request. */
export function currentTraceFields(): Record<string, unknown> {
  return traceLogFields(current.getStore()?.context);
}

/** The same for a context passed explicitly (https://cloud.google.com/logging/docs/structured-logging). */
export function traceLogFields(ctx: SpanContext | undefined): Record<string, unknown> {
  if (!ctx) return {};
  if (!project) projectLookup?.();
  return {
    ...(project
      ? { "logging.googleapis.com/trace": `projects/${project}/traces/${ctx.traceId}` }
      : { trace_id: ctx.traceId }),
    "logging.googleapis.com/spanId": ctx.spanId,
    "logging.googleapis.com/trace_sampled": ctx.sampled,
  };
}
