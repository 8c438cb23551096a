#!/usr/bin/env node
// The `herald` command: runs the TypeScript sources through tsx (a dependency), so no build step is needed.
import { register } from "tsx/esm/api";

register();
await import("../src/server/cli.ts");
