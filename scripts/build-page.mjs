#!/usr/bin/env node
// Builds the demo page into packages/herald/dist/web/ at build time (esbuild is a dev tool; the
// server only reads the files): app.js (the page, with the SDK inside), herald-client.js (the SDK
// alone, for pages of your own, and the SDK's SharedWorker), index.html and style.css as they are.
import { copyFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

const WEB = new URL("../packages/herald/web/", import.meta.url);
const OUT = new URL("../packages/herald/dist/web/", import.meta.url);
mkdirSync(OUT, { recursive: true });
const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  logLevel: "warning",
};
await build({
  ...common,
  entryPoints: [new URL("app.ts", WEB).pathname],
  outfile: new URL("app.js", OUT).pathname,
});
// herald-client.js is also the SharedWorker script of `subscribe({share: {worker: "/herald-client.js"}})`
// (the worker part starts only in a SharedWorkerGlobalScope): Herald serves no other script.
await build({
  ...common,
  stdin: {
    contents: 'export * from "./src/index.ts";\nimport "./src/shared-worker.ts";\n',
    resolveDir: new URL("../packages/herald-client/", import.meta.url).pathname,
    loader: "ts",
  },
  outfile: new URL("herald-client.js", OUT).pathname,
});
for (const file of ["index.html", "style.css"]) copyFileSync(new URL(file, WEB), new URL(file, OUT));
