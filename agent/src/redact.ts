// What may leave the service: public answers name no internal address, logs carry no URL credentials.

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)"'<>]+/gi;

/** scheme://host[:port] only: no userinfo, path or query (they can hold credentials). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

/** The URL without userinfo and query, for logs: the host and path help operators, secrets don't. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search || u.hash ? " (query removed)" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

/** Text for logs: every URL in it loses its userinfo and query. */
export function redactText(text: string): string {
  return text.replace(URL_RE, (u) => redactUrl(u));
}

/** Text for a public answer: no URL, no host:port, no IP address. */
export function publicText(text: string): string {
  return text
    .replace(/\s+at\s+[a-z][a-z0-9+.-]*:\/\/[^\s)"'<>]+/gi, "")
    .replace(URL_RE, "the server")
    .replace(/\[[0-9a-f:.]+\](?::\d+)?/gi, "an internal address")
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, "an internal address")
    .replace(/\b[a-z0-9][a-z0-9.-]*:\d{2,5}\b/gi, "an internal address");
}
