// Shared by both services: which Host and Origin a request may carry (DNS rebinding, and pages of
// other sites calling a service in someone's browser). The rule is the MCP SDK's (its
// validateHostHeader / validateOriginHeader and localhost lists); it is written here rather than
// imported because the agent is no MCP server, and importing them from @modelcontextprotocol/server
// put the whole server SDK, ajv included, into the agent's bundle (+286 KiB, docs/decisions.md).

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
 * A present Origin must be a loopback one (any port), exactly one of the allowed origins, or, where
 * Host can be trusted, the service's own (Origin's host equal to Host). A service listening on
 * loopback also checks Host (loopback names or an allowed host), as a page on a rebound DNS name
 * reaches it with its own Host and a same-origin Origin. Host can be trusted on loopback once checked,
 * on Cloud Run, whose front end routed by it, and wherever it is a host the operator listed;
 * elsewhere on a non-loopback address (a container, a VM) Host is whatever the caller sent, so only
 * loopback and listed origins count.
 * Returns why a request is refused (403), or undefined when it may pass.
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
