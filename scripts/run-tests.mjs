#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with node's test runner (Node 20 does not expand globs
// or find .ts files by itself). Extra arguments are passed to `node --test` (e.g. --test-only).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const filter = process.env.HERALD_TEST_FILTER;
const files = [...find("test"), ...find("packages")].filter((f) => !filter || f.includes(filter)).sort();
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-timeout=480000",
    ...process.argv.slice(2),
    ...files,
  ],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
