// Which Host and Origin a request may carry (DNS rebinding; other sites' pages in a browser). The
// MCP SDK's rule, written here because importing it put the server SDK into the agent (+286 KiB).

export interface HostGuardOptions {
  /** The address the service listens on (HOST). */
  listen: string;
  /** Host names the operator allows besides loopback (MCP_ALLOWED_HOSTS, AGENT_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  /** Exact browser origins allowed besides loopback ones (MCP_ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
  /** Set on Cloud Run, whose front end routes by Host: there Host is the service's own name. */
  cloudRun: boolean;
  /** The setting a refused Origin's message names. */
  originSetting: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLoopback(hostname: string): boolean {
  return /^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i.test(hostname);
}

/** The hostname of a Host header as URL parses it (lowercase, IPv6 in brackets), or undefined. */
function hostnameOf(host: string): string | undefined {
  return host ? URL.parse(`http://${host}`)?.hostname : undefined;
}

/**
 * Why a request is refused (403), or undefined. An Origin must be loopback, listed, or the service's
 * own where Host can be trusted: checked (a loopback listener checks Host against rebound names),
 * routed by (Cloud Run), or listed; elsewhere Host is whatever the caller sent.
 */
export function createHostGuard(opts: HostGuardOptions): (req: Request) => string | undefined {
  const checkHost = isLoopback(opts.listen) && !opts.cloudRun;
  const hosts = new Set([...LOOPBACK, ...opts.allowedHosts.map((h) => hostnameOf(h) ?? h)]);
  const origins = new Set(opts.allowedOrigins ?? []);
  const hint = `a page's origin must be loopback or in ${opts.originSetting}`;
  return (req) => {
    // An in-process Request (tests, Deno's serve) may carry no Host header: its URL has it.
    const host = req.headers.get("host") ?? new URL(req.url).host;
    const name = hostnameOf(host);
    if (checkHost && (!name || !hosts.has(name))) return `Invalid Host: ${name ?? host}`;
    const origin = req.headers.get("origin");
    if (!origin || origins.has(origin)) return undefined;
    const url = URL.parse(origin);
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return `Invalid Origin header: ${origin.slice(0, 100)}: ${hint}`;
    }
    if (LOOPBACK.has(url.hostname)) return undefined;
    const trusted = checkHost || opts.cloudRun || (name !== undefined && hosts.has(name));
    if (trusted && url.host === host.toLowerCase()) return undefined;
    return `Invalid Origin: ${url.hostname}: ${hint}`;
  };
}
