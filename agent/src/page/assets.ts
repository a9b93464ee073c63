// The chat page's files, inlined into the bundle as strings by esbuild (import attributes, type
// "text"), so the image stays a single file. Node and tsx cannot load these imports: load.ts falls
// back to reading the files.
import html from "./index.html" with { type: "text" };
import css from "./page.css" with { type: "text" };
import js from "./page.js" with { type: "text" };
import favicon from "./favicon.svg" with { type: "text" };
import type { PageAssets } from "./serve.js";

export const PAGE_ASSETS: PageAssets = { html, css, js, favicon };
