// Whether spans are exported (OTEL_* settings); only then is the SDK (otel.ts) imported, lazily even
// inside the esbuild bundle.
import type { Logger } from "./log.js";
import type { Tracing, TracingOptions } from "./otel.js";
import { setSpanBackend } from "./trace-context.js";

/** On for OTEL_TRACES_EXPORTER=otlp, or unset with an OTLP endpoint; off when nothing is set. */
export function tracingRequested(env: Record<string, string | undefined>): {
  on: boolean;
  problem?: string;
} {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return { on: false };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (!exporters.length)
    return {
      on: Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    };
  if (exporters.includes("none")) return { on: false };
  const unknown = exporters.filter((e) => e !== "otlp");
  if (!unknown.length) return { on: true };
  return {
    on: exporters.includes("otlp"),
    problem: `OTEL_TRACES_EXPORTER: only otlp (or none) is supported here; ignoring ${unknown.join(", ")}`,
  };
}

/** Starts export when asked for; a bad setting is logged and leaves tracing off, the service up. */
export async function startTracing(
  env: Record<string, string | undefined>,
  logger: Logger,
  opts: TracingOptions,
): Promise<Tracing> {
  const off: Tracing = { flush: async () => {} };
  const { on, problem } = tracingRequested(env);
  if (problem) logger.log("WARNING", problem);
  if (!on) return off;
  try {
    const otel = (await import("./otel.js")).startOtel(env, logger, opts);
    // `true` (the first form) or, as the GenAI utilities now spell it, SPAN_ONLY / SPAN_AND_EVENT.
    const capture = (env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? "").trim();
    setSpanBackend(otel.backend, {
      captureContent: ["true", "span_only", "span_and_event"].includes(capture.toLowerCase()),
    });
    return otel;
  } catch (err) {
    logger.log("ERROR", `tracing stays off: ${(err as Error).message}`);
    return off;
  }
}
