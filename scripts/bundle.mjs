// Bundles one service into a single ESM file that runs with plain `node` (20, 22) or `deno run`,
// with no node_modules beside it. Usage: node scripts/bundle.mjs <service-dir>
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import path from "node:path";

const dir = path.resolve(process.argv[2] ?? ".");
const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
const name = pkg.name;

const result = await build({
  entryPoints: [path.join(dir, "src/main.ts")],
  outfile: path.join(dir, "dist", `${name}.mjs`),
  bundle: true,
  platform: "node",
  format: "esm",
  target: ["node20"],
  minify: process.env.BUNDLE_MINIFY !== "0",
  keepNames: true,
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  define: { __SERVICE_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies (google-auth-library, …) call require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${name}: dist/${name}.mjs (${(bytes / 1024).toFixed(0)} KiB with source map)`);
