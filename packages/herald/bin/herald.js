#!/usr/bin/env node
// The `herald` command: runs the compiled JavaScript in dist/ (no loader, no build at run time).
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("herald: dist/cli.js is missing; in a checkout of the repository, run `npm run build` first");
  process.exit(1);
}
await import(cli.href);
