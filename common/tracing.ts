// Shared by both services: whether spans are exported, decided from the standard OpenTelemetry
// settings (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), and
// the OpenTelemetry SDK loaded only then: with tracing off no SDK module is evaluated (a dynamic
// import stays lazy inside the esbuild bundle), so start-up time and memory are what they were.
import type { Logger } from "./log.js";
import { setSpanBackend } from "./trace.js";

export interface Tracing {
  /** Exports what is queued; never takes longer than `timeoutMs`, never throws. */
  flush(timeoutMs: number): Promise<void>;
}

export interface TracingOptions {
  /** OTEL_SERVICE_NAME wins over this. */
  serviceName: string;
  version: string;
  /**
   * Request headers for an endpoint on googleapis.com (Google's Telemetry API takes OAuth access
   * tokens): each service brings its own way to get them.
   */
  googleAuthHeaders?: () => Promise<Record<string, string>>;
}

/**
 * On when OTEL_TRACES_EXPORTER names `otlp`, or is unset while an OTLP endpoint is set; off for
 * `none`, for OTEL_SDK_DISABLED=true, and when nothing is set (unlike the SDK's own default of
 * `otlp` to localhost: a service that nobody pointed anywhere sends nothing).
 */
export function tracingRequested(env: Record<string, string | undefined>): {
  on: boolean;
  problem?: string;
} {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return { on: false };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const endpoint = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  if (!exporters.length) return { on: endpoint };
  if (exporters.includes("none")) return { on: false };
  const unknown = exporters.filter((e) => e !== "otlp");
  if (unknown.length)
    return {
      on: exporters.includes("otlp"),
      problem: `OTEL_TRACES_EXPORTER: only otlp (or none) is supported here; ignoring ${unknown.join(", ")}`,
    };
  return { on: true };
}

const off: Tracing = { flush: async () => {} };

/** Starts export when asked for; a bad setting is logged and leaves tracing off rather than stopping the service. */
export async function startTracing(
  env: Record<string, string | undefined>,
  logger: Logger,
  opts: TracingOptions,
): Promise<Tracing> {
  const { on, problem } = tracingRequested(env);
  if (problem) logger.log("WARNING", problem);
  if (!on) return off;
  try {
    const { startOtel } = await import("./tracing-otel.js");
    const otel = startOtel(env, logger, opts);
    // `true` (the first form) or, as the GenAI utilities now spell it, SPAN_ONLY / SPAN_AND_EVENT.
    const capture = ["true", "span_only", "span_and_event"].includes(
      (env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? "").trim().toLowerCase(),
    );
    setSpanBackend(otel.backend, { captureContent: capture });
    return otel;
  } catch (err) {
    logger.log("ERROR", `tracing stays off: ${(err as Error).message}`);
    return off;
  }
}
