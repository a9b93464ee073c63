import type { PageAssets } from "./serve.js";

/**
 * The chat page's files. The bundle has them inlined (assets.ts, esbuild's text imports); run
 * unbundled (tsx, in development or the bench's baseline) Node can't import text files, so they are
 * read from disk beside this module instead.
 */
export async function loadPageAssets(): Promise<PageAssets> {
  try {
    return (await import("./assets.js")).PAGE_ASSETS;
  } catch {
    const { readFile } = await import("node:fs/promises");
    const read = (file: string): Promise<string> =>
      readFile(new URL(file, import.meta.url), "utf8");
    const [html, css, js, favicon] = await Promise.all(
      ["./index.html", "./page.css", "./page.js", "./favicon.svg"].map(read),
    );
    return { html: html!, css: css!, js: js!, favicon: favicon! };
  }
}
