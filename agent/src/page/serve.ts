// Serves the chat page at GET / to browsers, and its script, style sheet and icon as same-origin files,
// so that the Content-Security-Policy can forbid inline script and every other origin.
import { createHash } from "node:crypto";
import { Hono, type Context } from "hono";

export interface PageAssets {
  html: string;
  css: string;
  js: string;
  favicon: string;
}

/** Same-origin files only, no inline script: applied to every answer (http/index.ts). */
export const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/** Asset URLs change when their content does, so browsers may cache them for good. */
const version = (text: string): string =>
  createHash("sha256").update(text).digest("hex").slice(0, 8);

/**
 * True when the Accept header ranks text/html above JSON: a browser navigating. No header, `*\/*`
 * (curl), `application/json`, or a tie keep today's JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    const type = range.trim();
    if (type === "text/html" || type === "text/*") html = Math.max(html, q);
    if (type === "application/json" || type === "application/*" || type === "*/*")
      json = Math.max(json, q);
  }
  return html > 0 && html > json;
}

export interface Page {
  /** The page itself, for GET / when the request prefers HTML. */
  respond(c: Context): Response;
  /** /page.js, /page.css, /favicon.svg */
  routes: Hono;
}

export function createPage(assets: PageAssets): Page {
  const v = { js: version(assets.js), css: version(assets.css) };
  const html = assets.html.replace("__JS_VERSION__", v.js).replace("__CSS_VERSION__", v.css);
  const asset = (body: string, type: string, current?: string) => (c: Context) =>
    c.body(body, 200, {
      "content-type": type,
      // A URL that names the current version never changes; any other is revalidated.
      "cache-control":
        current && c.req.query("v") === current
          ? "public, max-age=31536000, immutable"
          : "no-cache",
    });
  const routes = new Hono()
    .get("/page.js", asset(assets.js, "text/javascript; charset=utf-8", v.js))
    .get("/page.css", asset(assets.css, "text/css; charset=utf-8", v.css))
    .get("/favicon.svg", asset(assets.favicon, "image/svg+xml"));
  return {
    respond: (c) =>
      c.body(html, 200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
        vary: "Accept",
      }),
    routes,
  };
}
