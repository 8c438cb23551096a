#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with node's test runner (Node 20 does not expand globs
// or find .ts files by itself). Extra arguments are passed to `node --test` (e.g. --test-only).
//
// A deadline bounds the whole run (HERALD_TEST_DEADLINE_S, default 1500 s): a file whose event loop
// never empties (a client left reconnecting after a failed test) would otherwise hold CI until its
// own time limit. At the deadline the runner and every test process it started (one process group)
// are killed, and the run fails saying so.
import { spawn } from "node:child_process";
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
const deadlineS = Number(process.env.HERALD_TEST_DEADLINE_S ?? 1500);
const runner = spawn(
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
  { stdio: "inherit", detached: true },
);
const killAll = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {}
};
const deadline = setTimeout(() => {
  console.error(`\nrun-tests: the tests ran past ${deadlineS} s (HERALD_TEST_DEADLINE_S); killing them all`);
  killAll("SIGKILL");
  process.exit(1);
}, deadlineS * 1000);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll("SIGKILL");
    process.exit(1);
  });
}
runner.on("exit", (code) => {
  clearTimeout(deadline);
  killAll("SIGKILL"); // a test process left behind by the runner
  process.exit(code ?? 1);
});
