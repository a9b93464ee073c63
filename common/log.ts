// Logs in Cloud Logging's shape, or one readable line for a person at a terminal; a line carries the
// trace it was written in, so Cloud Logging nests it under its request.
import { currentTraceFields, traceLogFields, type SpanContext } from "./trace-context.js";

export type Severity = "DEBUG" | "INFO" | "WARNING" | "ERROR";
export type Fields = Record<string, unknown>;

export interface Logger {
  /** `trace`: the context the line belongs to, when it is passed explicitly rather than current. */
  log(severity: Severity, message: string, fields?: Fields, trace?: SpanContext): void;
  child(fields: Fields): Logger;
}

export interface LogOptions {
  /** text: `12:00:00.000 INFO  message k=v`. */
  format: "json" | "text";
  /** Lines below this severity are dropped. */
  level: Severity;
}

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

/** LOG_FORMAT and LOG_LEVEL; unset: text at INFO on a terminal, else (and on Cloud Run) JSON at DEBUG. */
export function logOptions(env: Record<string, string | undefined>, isTTY: boolean): LogOptions {
  const format = env.LOG_FORMAT || (isTTY && !env.K_SERVICE ? "text" : "json");
  if (format !== "json" && format !== "text")
    throw new Error(`Invalid configuration: LOG_FORMAT: must be json or text, got "${format}"`);
  const level = (env.LOG_LEVEL || (format === "text" ? "INFO" : "DEBUG")).toUpperCase();
  if (!(level in RANK))
    throw new Error(
      `Invalid configuration: LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, got "${env.LOG_LEVEL}"`,
    );
  return { format, level: level as Severity };
}

export function createLogger(
  base: Fields = {},
  write: (line: string) => void = (line) => console.log(line),
  options: LogOptions = { format: "json", level: "DEBUG" },
): Logger {
  const min = RANK[options.level];
  return {
    log(severity, message, fields, context) {
      if (RANK[severity] < min) return;
      const time = new Date().toISOString();
      const trace = context ? traceLogFields(context) : currentTraceFields();
      if (options.format === "json") {
        write(JSON.stringify({ severity, message, ...base, ...fields, ...trace, time }));
      } else {
        write(textLine(time, severity, message, { ...base, ...fields, ...textTrace(trace) }));
      }
    },
    child(fields) {
      return createLogger({ ...base, ...fields }, write, options);
    },
  };
}

// `service` is left out: make up already prefixes each line with it.
function textLine(time: string, severity: Severity, message: string, fields: Fields): string {
  const rest = Object.entries(fields)
    .filter(([key, value]) => key !== "service" && value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`,
    );
  return [time.slice(11, 23), severity.padEnd(7), message.replace(/\s*\n\s*/g, " "), ...rest]
    .join(" ")
    .trimEnd();
}

/** At a terminal the trace is `trace=ID span=ID`. */
function textTrace(trace: Fields): Fields {
  const full = trace["logging.googleapis.com/trace"];
  const id = typeof full === "string" ? full.slice(full.lastIndexOf("/") + 1) : trace.trace_id;
  return id ? { trace: id, span: trace["logging.googleapis.com/spanId"] } : {};
}

export const silentLogger: Logger = { log() {}, child: () => silentLogger };

/** main.ts's logger; a bad LOG_FORMAT or LOG_LEVEL stops start-up with one line naming it. */
export function createStartupLogger(
  base: Fields,
  env: Record<string, string | undefined>,
  isTTY: boolean,
): Logger {
  try {
    return createLogger(base, undefined, logOptions(env, isTTY));
  } catch (err) {
    createLogger(base).log("ERROR", (err as Error).message);
    process.exit(1);
  }
}
