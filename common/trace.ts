// Shared by both services: the request's trace context (W3C Trace Context, or Cloud Run's
// X-Cloud-Trace-Context), carried through async calls, stamped on every log line and passed on to the
// next hop. Always loaded and dependency-free: with tracing off, spans here are ids only (so logs and
// downstream services still join up); tracing-otel.ts, imported only when OTEL_* settings ask for
// export, plugs in a backend that records and exports them.
import { AsyncLocalStorage } from "node:async_hooks";

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

/** What records spans: the id-only default here, or the OpenTelemetry SDK once loaded. */
export interface SpanBackend {
  start(
    name: string,
    kind: SpanKind,
    parent: SpanContext | undefined,
    attributes: Attributes,
  ): Span;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

function randomHex(bytes: number): string {
  let s = "";
  for (const b of crypto.getRandomValues(new Uint8Array(bytes)))
    s += b.toString(16).padStart(2, "0");
  return s;
}

/** W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header); undefined when invalid. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is invalid; version 00 has nothing after the flags.
  if (
    version === "ff" ||
    (version === "00" && rest) ||
    traceId === ZERO_TRACE ||
    spanId === ZERO_SPAN
  )
    return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` (span id in decimal) → the same context. */
export function parseCloudTraceContext(value: string | null | undefined): SpanContext | undefined {
  const m = value ? /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?/.exec(value.trim()) : null;
  if (!m || m[1]!.toLowerCase() === ZERO_TRACE) return undefined;
  let spanId: string;
  try {
    spanId = m[2] ? BigInt(m[2]).toString(16).padStart(16, "0").slice(-16) : ZERO_SPAN;
  } catch {
    spanId = ZERO_SPAN;
  }
  // Without a parent span id there is nothing to be a child of: a new span id stands in for it.
  if (spanId === ZERO_SPAN) spanId = randomHex(8);
  return { traceId: m[1]!.toLowerCase(), spanId, sampled: m[3] === "1" };
}

interface HeaderSource {
  get(name: string): string | null | undefined;
}

/** The caller's context: `traceparent` (with `tracestate`, `baggage`) first, else X-Cloud-Trace-Context. */
export function incomingContext(headers: HeaderSource): SpanContext | undefined {
  const w3c = parseTraceparent(headers.get("traceparent"));
  if (w3c) {
    const traceState = headers.get("tracestate") ?? undefined;
    const baggage = headers.get("baggage") ?? undefined;
    return { ...w3c, ...(traceState ? { traceState } : {}), ...(baggage ? { baggage } : {}) };
  }
  return parseCloudTraceContext(headers.get("x-cloud-trace-context"));
}

/** A context from an MCP request's `_meta` (SEP-414: `traceparent`, `tracestate`, `baggage`). */
export function contextFromMeta(
  meta: Record<string, unknown> | undefined,
): SpanContext | undefined {
  if (!meta) return undefined;
  const str = (k: string): string | undefined =>
    typeof meta[k] === "string" ? (meta[k] as string) : undefined;
  return incomingContext({ get: str });
}

export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`;
}

/** The headers (and MCP `_meta` keys) that carry a context to the next hop. */
export function propagationFields(
  ctx: SpanContext | undefined = currentSpan()?.context,
): Record<string, string> {
  if (!ctx) return {};
  return {
    traceparent: formatTraceparent(ctx),
    ...(ctx.traceState ? { tracestate: ctx.traceState } : {}),
    ...(ctx.baggage ? { baggage: ctx.baggage } : {}),
  };
}

class IdSpan implements Span {
  constructor(readonly context: SpanContext) {}
  setAttributes(): void {}
  setError(): void {}
  end(): void {}
}

/**
 * Tracing off: a span is a fresh span id in the caller's trace (or a new trace), so log lines and
 * the next hop still name where they are; the sampled flag is passed on unchanged, never set here.
 */
export const idOnlyBackend: SpanBackend = {
  start(_name, _kind, parent) {
    return new IdSpan({
      traceId: parent?.traceId ?? randomHex(16),
      spanId: randomHex(8),
      sampled: parent?.sampled ?? false,
      traceState: parent?.traceState,
      baggage: parent?.baggage,
    });
  },
};

let backend: SpanBackend = idOnlyBackend;
let content = false;

export function setSpanBackend(b: SpanBackend, opts: { captureContent?: boolean } = {}): void {
  backend = b;
  content = opts.captureContent === true;
}

/**
 * Whether spans may carry message text, model output and tool arguments and results: only when the
 * GenAI conventions' opt-in, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, asks for it and
 * spans are exported at all.
 */
export function captureContent(): boolean {
  return content;
}
const current = new AsyncLocalStorage<Span>();

export function currentSpan(): Span | undefined {
  return current.getStore();
}

/** Runs `fn` with the caller's context current (no span of its own): log lines join the caller's trace. */
export function withRemoteContext<T>(ctx: SpanContext | undefined, fn: () => T): T {
  return ctx ? current.run(new IdSpan(ctx), fn) : fn();
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the current span. `null`: a new trace. */
  parent?: SpanContext | null | undefined;
  /**
   * false: the span is not made current, and `fn` passes `span.context` on itself (to log lines,
   * child spans, outgoing headers). No AsyncLocalStorage is entered: once one is, Node 20 and 22 run
   * promise hooks on every promise of the process, ~8% of the mcp-server's CPU per cached tools/call
   * (bench-eras on Node 22), which passes its context explicitly for that reason. Default true.
   */
  current?: boolean;
}

/**
 * Runs `fn` in a new span, current for everything it calls; ends it when `fn` settles. A throw marks
 * the span with `error.type` (the error's class) unless `fn` already set one, and is rethrown.
 */
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
    // A machine-readable code (an AppError's model_rate_limited, …) says more than the class name.
    const code = (err as { code?: unknown } | null)?.code;
    span.setError(
      typeof code === "string" ? code : err instanceof Error ? err.name : "Error",
      err instanceof Error ? err.message : String(err),
    );
    throw err;
  } finally {
    span.end();
  }
}

// ------------------------------------------------------------------------------------------- logs

let project: string | undefined;
let projectLookup: (() => void) | undefined;

/**
 * The project log lines name their trace in. Given (GOOGLE_CLOUD_PROJECT) it is used at once;
 * otherwise on Cloud Run (K_SERVICE) it is asked of the metadata server once, in the background, the
 * first time a line needs it: lines written before the answer carry `trace_id` instead.
 */
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
      .then(async (res) =>
        res.ok && res.headers.get("metadata-flavor") === "Google"
          ? (await res.text()).trim()
          : undefined,
      )
      .then((id) => {
        // Project ids, domain-scoped ones too (example.com:project).
        if (id && /^[\w.:-]{1,100}$/.test(id)) project = id;
      })
      .catch(() => undefined);
  };
}

/**
 * Cloud Logging's trace fields for the current span (https://cloud.google.com/logging/docs/structured-logging):
 * the line nests under its request in the Logs Explorer and shows in Cloud Trace beside its span.
 */
export function currentTraceFields(): Record<string, unknown> {
  return traceLogFields(current.getStore()?.context);
}

/** The same fields for a context passed explicitly (a span that is not current, or a request's own headers). */
export function traceLogFields(ctx: SpanContext | undefined): Record<string, unknown> {
  if (!ctx) return {};
  const { traceId, spanId, sampled } = ctx;
  if (!project) projectLookup?.();
  return {
    ...(project
      ? { "logging.googleapis.com/trace": `projects/${project}/traces/${traceId}` }
      : { trace_id: traceId }),
    "logging.googleapis.com/spanId": spanId,
    "logging.googleapis.com/trace_sampled": sampled,
  };
}
