// Shared by both services (bundled into each): structured logs in Cloud Logging's shape.
export type Severity = "DEBUG" | "INFO" | "WARNING" | "ERROR";
export type Fields = Record<string, unknown>;

export interface Logger {
  log(severity: Severity, message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export function createLogger(
  base: Fields = {},
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  return {
    log(severity, message, fields) {
      write(JSON.stringify({ severity, message, ...base, ...fields, time: new Date().toISOString() }));
    },
    child(fields) {
      return createLogger({ ...base, ...fields }, write);
    },
  };
}

export const silentLogger: Logger = { log() {}, child: () => silentLogger };

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` → the field Cloud Logging joins to the request's trace. */
export function traceFields(header: string | null | undefined, project: string | undefined): Fields {
  const traceId = header?.split("/")[0]?.trim();
  if (!traceId || !/^[0-9a-fA-F]{1,64}$/.test(traceId)) return {};
  return project
    ? { "logging.googleapis.com/trace": `projects/${project}/traces/${traceId}` }
    : { trace_id: traceId };
}
