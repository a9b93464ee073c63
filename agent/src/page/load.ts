import type { PageAssets } from "./serve.js";

/** The chat page's files: inlined in the bundle (assets.ts), read from disk when run unbundled. */
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
