/**
 * The packages as a user gets them: `npm pack` of `herald` and `herald-client` into a scratch
 * folder, `npm install` of the tarballs there, and `npx herald` started from that install. Every
 * process runs in a process group of its own and is stopped by the group leader's id, also when the
 * test file itself is stopped. The packages must be built first (`npm run build`; `npm test` does).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** One test file's scratch folder, with the two tarballs in it. */
export interface Packed {
  readonly dir: string;
  readonly herald: string;
  readonly client: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs a command to its end in its own process group; rejects with the command, its exit code and its
 * output when it fails or outlives `timeoutMs` (then its whole group is killed).
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 180_000;
  const child = spawnTracked(command, args, { cwd: options.cwd, env: options.env ?? process.env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`\`${command}\` could not start in ${options.cwd}: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (code === 0) return resolve({ stdout, stderr, ms });
      const why =
        signal === "SIGKILL" && ms >= timeoutMs
          ? `was stopped after ${timeoutMs} ms`
          : `failed (${code ?? signal})`;
      reject(new Error(`\`${command} ${args.join(" ")}\` in ${options.cwd} ${why}:\n${stdout}\n${stderr}`));
    });
  });
}

/** `npm install` as fast as a fresh scratch folder allows: the npm cache first, no audit, no fund. */
export function npmInstall(cwd: string, args: readonly string[] = []): Promise<RunResult> {
  return run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...args], { cwd });
}

/** Packs both packages into a new scratch folder (`npm pack -w herald -w herald-client`). */
export async function packTarballs(name: string): Promise<Packed> {
  for (const pkg of ["herald", "herald-client"]) {
    if (!existsSync(join(REPO_ROOT, "packages", pkg, "dist"))) {
      throw new Error(`packages/${pkg}/dist is missing: run \`npm run build\` first (\`npm test\` does)`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), `herald-${name}-`));
  scratch.add(dir);
  const tarballs = join(dir, "tarballs");
  await mkdir(tarballs);
  const { stdout } = await run(
    "npm",
    ["pack", "-w", "herald", "-w", "herald-client", "--pack-destination", tarballs, "--json"],
    { cwd: REPO_ROOT },
  );
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  const file = (pkg: string) => {
    const entry = packed.find((p) => p.name === pkg);
    if (entry === undefined) throw new Error(`npm pack made no tarball of ${pkg}: ${stdout}`);
    return join(tarballs, entry.filename);
  };
  return { dir, herald: file("herald"), client: file("herald-client") };
}

/** A folder `name` under the scratch folder with a package.json, then `npm install` of `specs`. */
export async function installInto(
  packed: Packed,
  name: string,
  specs: readonly string[],
  packageJson: Record<string, unknown> = {},
): Promise<{ dir: string; ms: number }> {
  const dir = join(packed.dir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name, private: true, ...packageJson }, null, 2),
  );
  const { ms } = await npmInstall(dir, specs);
  return { dir, ms };
}

/** Removes the scratch folder. */
export function removeScratch(packed: Packed | undefined): Promise<void> {
  if (packed === undefined) return Promise.resolve();
  scratch.delete(packed.dir);
  return rm(packed.dir, { recursive: true, force: true });
}

/** A TCP port free right now on 127.0.0.1 (Herald is started on it, and restarted on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

export interface PackedHerald {
  readonly url: string;
  output(): string;
  /** SIGTERM to the process group `npx herald` started (npx, its shell, herald); resolves once herald is gone. */
  stop(): Promise<void>;
}

/**
 * `npx herald --port <port> --host 127.0.0.1` in `dir` (where the herald tarball is installed), one
 * process (HERALD_WORKERS=1) unless `env` says otherwise. Resolves once Herald logs that it listens.
 * npx runs herald under a shell and does not pass SIGTERM on, so it starts in its own process group
 * and `stop` signals the group by the group leader's id.
 */
export function startPackedHerald(
  dir: string,
  port: number,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<PackedHerald> {
  const child = spawnTracked(
    "npx",
    ["--offline", "herald", "--port", String(port), "--host", "127.0.0.1", ...args],
    {
      cwd: dir,
      env: { ...process.env, HERALD_WORKERS: "1", ...env },
    },
  );
  let out = "";
  // herald writes to the same pipes as npx: they close once herald, the last holder, is gone.
  const gone = Promise.all([
    new Promise((resolve) => child.stdout.once("close", resolve)),
    new Promise((resolve) => child.stderr.once("close", resolve)),
    new Promise((resolve) => child.once("exit", resolve)),
  ]);
  const stop = async () => {
    signalGroup(child, "SIGTERM");
    await gone;
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      signalGroup(child, "SIGKILL");
      reject(new Error(`npx herald in ${dir} ${why}:\n${out}`));
    };
    const timer = setTimeout(() => fail("did not log that it listens within 60 s"), 60_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/"msg":"Herald listening"/.test(out)) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}`, output: () => out, stop });
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", (code, signal) => {
      if (!/"msg":"Herald listening"/.test(out)) fail(`exited with ${code ?? signal}`);
    });
  });
}

/**
 * Every command runs in a process group of its own (npx, npm and ng start children of their own),
 * tracked until it exits. When this test file is stopped (the runner's timeout sends SIGTERM, Ctrl-C
 * sends SIGINT), every tracked group is killed and the scratch folders removed before it exits.
 */
const running = new Set<ChildProcess>();
const scratch = new Set<string>();
let handlersInstalled = false;

function spawnTracked(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
) {
  const child = spawn(command, args, {
    ...options,
    stdio: ["ignore", "pipe", "pipe"] as const,
    detached: true,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (!handlersInstalled) {
    handlersInstalled = true;
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stopEverything(signal));
  }
  return child;
}

function stopEverything(signal: NodeJS.Signals): void {
  for (const child of running) signalGroup(child, "SIGKILL");
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  process.exit(signal === "SIGINT" ? 130 : 143);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}
