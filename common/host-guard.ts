// Shared by both services: which Host and Origin a request may carry, checked with the MCP SDK's own
// validators (DNS rebinding, and pages of other sites calling a service in someone's browser).
import {
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  validateHostHeader,
  validateOriginHeader,
} from "@modelcontextprotocol/server";

export interface HostGuardOptions {
  /** The address the service listens on (HOST). */
  listen: string;
  /** Host names the operator allows besides loopback (MCP_ALLOWED_HOSTS, AGENT_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  /** Set on Cloud Run, whose front end routes by Host: there Host is the service's own name. */
  cloudRun: boolean;
}

export function isLoopback(hostname: string): boolean {
  return /^(localhost|127(\.\d+){3}|\[::1\]|::1)$/i.test(hostname);
}

/**
 * The rule, as the MCP spec asks of servers and the SDK's app factories do: a present Origin must be
 * a loopback one or an allowed host, always; a service listening on loopback also checks Host
 * (loopback names or an allowed host), as a page on a rebound DNS name reaches it with its own Host
 * and a same-origin Origin. On Cloud Run Host is genuine (the front end routed by it), so an Origin
 * equal to it is the service's own page; elsewhere on a non-loopback address (a container, a VM)
 * Host is whatever the caller sent, so only listed hosts count.
 * Returns why a request is refused (403), or undefined when it may pass.
 */
export function createHostGuard(opts: HostGuardOptions): (req: Request) => string | undefined {
  const allowed = opts.allowedHosts.map((h) => h.toLowerCase().replace(/:\d+$/, ""));
  const origins = [...localhostAllowedOrigins(), ...allowed];
  const hosts =
    isLoopback(opts.listen) && !opts.cloudRun ? [...localhostAllowedHostnames(), ...allowed] : [];
  return (req) => {
    // An in-process Request (tests, Deno's serve) may carry no Host header: its URL has it.
    const hostHeader = req.headers.get("host") ?? new URL(req.url).host;
    if (hosts.length) {
      const host = validateHostHeader(hostHeader, hosts);
      if (!host.ok) return host.message;
    }
    const own = opts.cloudRun ? URL.parse(`http://${hostHeader}`)?.hostname : undefined;
    const origin = validateOriginHeader(
      req.headers.get("origin"),
      own ? [...origins, own] : origins,
    );
    return origin.ok ? undefined : origin.message;
  };
}
