import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { logLines } from "./logs.ts";

/** The `herald` command as the package ships it (runs the compiled dist/: `npm run build` first). */
export const HERALD_BIN = fileURLToPath(new URL("../../packages/herald/bin/herald.js", import.meta.url));

export interface HeraldProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  output(): string;
}

/** Starts `herald` as a real child process on a free port; resolves once it logs that it listens. */
export function spawnHerald(args: string[] = [], env: Record<string, string> = {}): Promise<HeraldProcess> {
  const child = spawn(process.execPath, [HERALD_BIN, "--port", "0", "--host", "127.0.0.1", ...args], {
    // Anonymous publishing on, as in startTestHerald, unless the test's env says otherwise.
    // One process (no cluster) unless the test asks for workers.
    env: { HERALD_ALLOW_ANONYMOUS_PUBLISH: "true", HERALD_WORKERS: "1", ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never left behind (its workers stop when their primary is gone)
      reject(new Error(`herald did not start within 60 s: ${out}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:[^"]+)".*"msg":"Herald listening"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] as string, exited, output: () => out });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herald exited with ${code}: ${out}`));
    });
  });
}

/** `herald --workers N` with `env`; resolves once every worker listens (the primary logs it). */
export async function spawnWorkers(
  workers: number,
  env: Record<string, string> = {},
): Promise<HeraldProcess> {
  const herald = await spawnHerald([], { ...env, HERALD_WORKERS: String(workers) });
  const deadline = Date.now() + 60_000;
  while (!herald.output().includes('"all workers listening"')) {
    if (Date.now() > deadline) throw new Error(`the workers did not all listen: ${herald.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return herald;
}

/** Stops a spawned Herald gracefully (SIGTERM) and waits for its exit. */
export async function stopHerald(herald: HeraldProcess): Promise<void> {
  herald.child.kill("SIGTERM");
  await herald.exited;
}

/** The pid of the live worker `index` of `--workers`: the last "Herald listening" line of that worker. */
export function workerPid(herald: HeraldProcess, index: number): number | undefined {
  const out = herald.output();
  // complete lines only (a line may be arriving)
  const lines = logLines(out.slice(0, out.lastIndexOf("\n") + 1)).filter(
    (l) => l.msg === "Herald listening" && l.worker === index,
  );
  return lines.at(-1)?.pid as number | undefined;
}
