// Bundles one service into a single ESM file that runs with plain `node` (20, 22) or `deno run`,
// with no node_modules beside it. Usage: node scripts/bundle.mjs <service-dir>
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import zlib, { brotliCompressSync } from "node:zlib";

const dir = path.resolve(process.argv[2] ?? ".");
const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
const name = pkg.name;

// A library only some deployments use (the agent's Firestore session store: ~3 MB of JavaScript with
// its protobuf descriptors) still goes into the one file, but pre-bundled, compressed and appended as a
// comment after the code; it is read back from the file, unpacked and run (as Node runs a CommonJS
// file) only on first use. Inlined as code it was parsed at every start of every instance, even of agents
// that never load it (+13 MiB idle RSS, ~+300 ms to /health, measured); as a string literal it still
// cost +2.2 MiB; as a comment it costs its compressed size (~0.5 MB). The service's source imports it
// through a seam module (src/sessions/firestore-lib.ts) whose plain dynamic import works from source; here that
// module is swapped for the loader.
// The A2A SDK (250 KiB, used only when another agent calls) goes the same way, through
// src/a2a/sdk.ts: inlined behind a dynamic import (which esbuild keeps in the one file, compiled at
// every start) it cost +15 ms to the first /health 200; packed, no difference beyond noise (medians
// of 21 interleaved starts each).
// Each seam: its module (the packed library's exports) and the one loader function it exports.
const LAZY = {
  "src/sessions/firestore-lib.ts": {
    name: "@google-cloud/firestore",
    load: "loadFirestore",
    source: 'module.exports = require("@google-cloud/firestore");',
  },
  "src/a2a/sdk.ts": {
    name: "@a2a-js/sdk",
    load: "loadA2aSdk",
    source: `module.exports = Object.assign({}, ${["", "/server", "/errors", "/compat/v0_3", "/compat/v0_3/server"].map((sub) => `require("@a2a-js/sdk${sub}")`).join(", ")});`,
  },
};
const payloads = [];

async function packed({ source }) {
  const sub = await build({
    stdin: {
      contents: source,
      resolveDir: dir,
      loader: "js",
    },
    bundle: true,
    platform: "node",
    format: "cjs", // run by the loader in a CommonJS wrapper that supplies require, __dirname, …
    target: ["node22"],
    minify: true,
    keepNames: true, // as below: proto3-json-serializer recognises a Long by its class name
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  const code = sub.outputFiles[0].contents;
  const b64 = brotliCompressSync(code, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
  }).toString("base64");
  return { code, b64 };
}

const lazyPlugin = {
  name: "lazy-embedded",
  setup(b) {
    for (const [file, lazy] of Object.entries(LAZY)) {
      const abs = path.join(dir, file);
      if (!existsSync(abs)) continue;
      const pkgName = lazy.name;
      b.onLoad({ filter: /.*/ }, async (args) => {
        if (args.path !== abs) return undefined;
        const { code, b64 } = await packed(lazy);
        const marker = `/*LAZY:${pkgName}:`;
        payloads.push(`${marker}${b64}*/`);
        console.log(
          `${name}: ${pkgName} appended, loaded on first use (${(code.length / 1024).toFixed(0)} KiB of code, ${(b64.length / 1024).toFixed(0)} KiB packed)`,
        );
        return {
          loader: "js",
          contents: `import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runInThisContext } from "node:vm";
import { brotliDecompressSync } from "node:zlib";
let lib;
export async function ${lazy.load}() {
  if (!lib) {
    const file = fileURLToPath(import.meta.url);
    const self = readFileSync(file, "latin1");
    const start = self.lastIndexOf(${JSON.stringify(marker)}) + ${marker.length};
    const code = brotliDecompressSync(Buffer.from(self.slice(start, self.indexOf("*/", start)), "base64")).toString();
    const module = { exports: {} };
    // A plain script, as Node runs a CommonJS file (an import of a data: URL cost ~45 MiB more RSS).
    const wrapper = runInThisContext("(function (exports, require, module, __filename, __dirname) {" + code + "\\n})", { filename: file + "#" + ${JSON.stringify(pkgName)} });
    wrapper(module.exports, createRequire(file), module, file, path.dirname(file));
    lib = module.exports;
  }
  return lib;
}
`,
        };
      });
    }
  },
};

// The MCP SDK's Node shims (`@modelcontextprotocol/{server,client}/_shims`) import Ajv as the default
// JSON Schema validator, and evaluate it at import, though both services pass the SDK's cf-worker
// validator instead (src/tool-server.ts, src/mcp/index.ts). These stand-ins export exactly what the Node
// shims export, with that validator as the default: an export the SDK adds fails this build. Ajv out:
// -140 KiB per bundle, and its evaluation at every start (docs/decisions.md).
const SHIMS = {
  "@modelcontextprotocol/server/_shims": `export { CfWorkerJsonSchemaValidator as DefaultJsonSchemaValidator } from "@modelcontextprotocol/server/validators/cf-worker";
export { default as process } from "node:process";`,
  "@modelcontextprotocol/client/_shims": `export { CfWorkerJsonSchemaValidator as DefaultJsonSchemaValidator } from "@modelcontextprotocol/client/validators/cf-worker";
export const CORS_IS_POSSIBLE = false;`,
};
const shimsPlugin = {
  name: "mcp-shims-without-ajv",
  setup(b) {
    b.onResolve({ filter: /^@modelcontextprotocol\/(server|client)\/_shims$/ }, (args) => ({
      path: args.path,
      namespace: "mcp-shims",
    }));
    b.onLoad({ filter: /.*/, namespace: "mcp-shims" }, (args) => ({
      contents: SHIMS[args.path],
      resolveDir: dir,
      loader: "js",
    }));
  },
};

const result = await build({
  entryPoints: [path.join(dir, "src/main.ts")],
  outfile: path.join(dir, "dist", `${name}.mjs`),
  bundle: true,
  platform: "node",
  format: "esm",
  target: ["node22"],
  minify: process.env.BUNDLE_MINIFY !== "0",
  keepNames: true,
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [lazyPlugin, shimsPlugin],
  define: { __SERVICE_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies (google-auth-library, …) call require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
});
if (payloads.length) {
  // After the code and before the source-map comment, on lines of their own: no mapping moves.
  const out = path.join(dir, "dist", `${name}.mjs`);
  const text = await readFile(out, "utf8");
  const at = text.lastIndexOf("\n//# sourceMappingURL=");
  await writeFile(out, `${text.slice(0, at)}\n${payloads.join("\n")}${text.slice(at)}`);
}
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${name}: dist/${name}.mjs (${(bytes / 1024).toFixed(0)} KiB with source map)`);
