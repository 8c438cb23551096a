/**
 * Runs the C publisher (bench/publisher/publisher.c, compiled with `cc -O2` once per bench run into
 * a temp dir): keep-alive connections with `depth` requests in flight on each, for `durationMs`.
 * Without a C compiler, the same load from Node (bench/keepalive.ts, bench/pipeline.ts), which
 * costs the shared cores several times more per request.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventData, HOST, type ServerHandle } from "./harness.ts";
import { type PoolResult, runKeepAlivePool } from "./keepalive.ts";
import { runPipeline } from "./pipeline.ts";

/** A publishing run's figures (bench/keepalive.ts's, whichever client ran it). */
export interface PublishLoad extends PoolResult {
  /** The load generator's own CPU time (ms), when it ran as its own process. */
  cpuMs?: number;
  client: "C" | "node";
}

const SOURCE = fileURLToPath(new URL("./publisher/publisher.c", import.meta.url));
let binary: string | undefined | null; // null: no C compiler

function compiled(): string | undefined {
  if (binary === null) return undefined;
  if (binary !== undefined) return binary;
  if (spawnSync("cc", ["--version"]).error !== undefined) {
    binary = null;
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-publisher-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "publisher");
  const cc = spawnSync("cc", ["-O2", "-o", out, SOURCE], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`cc failed on bench/publisher/publisher.c: ${cc.stderr}`);
  binary = out;
  return out;
}

/**
 * Publishes events of ~`size` bytes (bench/harness.ts `eventData`; sequence from `first`, from 1 with
 * the C publisher: only their count and order are checked) on
 * `topic` to `server` over `connections` keep-alive connections, `depth` requests in flight on
 * each (1: no pipelining), for `durationMs`.
 */
export async function publishLoad(
  server: ServerHandle,
  topic: string,
  options: { connections: number; depth: number; durationMs: number; size: number; first: number },
): Promise<PublishLoad> {
  const { connections, depth, durationMs, size, first } = options;
  const bin = compiled();
  if (bin === undefined) {
    const request = (i: number) => server.publishRequest(topic, eventData(first + i, size));
    const { path, contentType } = request(0);
    const common = { host: HOST, port: server.port, path, durationMs, body: (i: number) => request(i).body };
    if (depth > 1) {
      const r = await runPipeline({ ...common, connections, depth });
      return { ...r, p50Ms: Number.NaN, p99Ms: Number.NaN, client: "node" };
    }
    return { ...(await runKeepAlivePool({ ...common, contentType, connections })), client: "node" };
  }
  // the body around the sequence number and the time, as eventData pads it, split at markers
  const sample = eventData(first, size)
    .replace(/"s":\d+/, '"s":@S@')
    .replace(/"t":[\d.]+/, '"t":@T@');
  const { path, contentType, body } = server.publishRequest(topic, sample);
  const [before, rest] = body.split("@S@") as [string, string];
  const [middle, after] = rest.split("@T@") as [string, string];
  const head = `POST ${path} HTTP/1.1\r\nHost: ${HOST}:${server.port}\r\nContent-Type: ${contentType}\r\n`;
  const args = [HOST, server.port, connections, depth, durationMs / 1000, head, before, middle, after];
  const child = spawn(bin, args.map(String), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = out.split("\n").find((l) => l.startsWith("result "));
  if (code !== 0 || line === undefined) throw new Error(`publisher exited with ${code}: ${err.trim()}`);
  const r = JSON.parse(line.slice(7)) as Record<string, number>;
  return {
    sent: r.sent as number,
    ok: r.ok as number,
    failed: r.failed as number,
    elapsedMs: r.elapsed_ms as number,
    p50Ms: r.p50_ms as number,
    p99Ms: r.p99_ms as number,
    cpuMs: (r.user_ms as number) + (r.sys_ms as number),
    client: "C",
  };
}
