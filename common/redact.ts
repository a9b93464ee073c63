// URLs as logs may show them: userinfo and query can carry a password or an API key.

/** A URL in free text (an error message, a log detail). */
export const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)"'<>]+/gi;

/** The URL without userinfo and query. */
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
