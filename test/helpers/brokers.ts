import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Real brokers for tests: `redis-server` and `rabbitmq-server` from the Debian packages, on free
 * ports with temporary data directories, stopped by the test. When a binary is missing, `skipReason`
 * says what to install (tests skip); under CI (`CI=true`) a missing server fails the run instead.
 */
export const REDIS_BIN = "/usr/bin/redis-server";
export const RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server";

export function skipReason(bin: string, pkg: string): string | false {
  if (existsSync(bin)) return false;
  if (process.env.CI === "true")
    throw new Error(`${bin} is missing under CI: install the Debian package ${pkg}`);
  return `${bin} not found: install it (apt-get install ${pkg}) to run this test`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

export async function waitForPort(
  port: number,
  ms: number,
  what: string,
  child: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port} within ${ms} ms`);
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The running process's pid (undefined once killed or stopped). */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server; `durable` turns on appendonly with fsync on every write (no acknowledged
 * loss); `args` are more arguments (a replica's `--replicaof`, a cluster node's settings).
 */
export async function startRedis(
  options: { durable?: boolean; port?: number; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "herald-redis-"));
  const port = options.port ?? (await freePort());
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  if (options.durable) args.push("--appendonly", "yes", "--appendfsync", "always");
  args.push(...(options.args ?? []));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(REDIS_BIN, args, { stdio: "ignore" });
    await waitForPort(port, 10_000, "redis-server", child);
  };
  await start();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    start,
    async kill() {
      if (child === undefined) return;
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      if (child !== undefined) {
        child.kill("SIGTERM");
        await exited(child);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RabbitServer {
  readonly url: string;
  /** Graceful stop (data kept). */
  halt(): Promise<void>;
  /** SIGKILL of the whole node (the start script and the Erlang VM), as a crash; data kept. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private RabbitMQ node (own node name, ports, epmd, data dir). Boots in ~5-15 s. */
export async function startRabbit(): Promise<RabbitServer> {
  const dir = mkdtempSync(join(tmpdir(), "herald-rabbit-"));
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  const [port, dist, epmd] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODENAME: `herald${port}@localhost`,
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_DIST_PORT: String(dist),
    ERL_EPMD_PORT: String(epmd),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_CONFIG_FILES: join(dir, "conf.d"),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, "feature_flags"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins-expand"),
  };
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(RABBIT_BIN, [], { cwd: dir, env, stdio: "ignore", detached: true });
    await waitForPort(port, 60_000, "rabbitmq-server", child);
  };
  const halt = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child === undefined || child.exitCode !== null) return;
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      return;
    }
    await exited(child);
    // the Erlang VM may outlive the wrapper script for a moment: wait until the port is free
    for (let i = 0; i < 200 && (await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    start,
    halt: () => halt(),
    kill: () => halt("SIGKILL"),
    async stop() {
      await halt();
      spawnSync("/usr/bin/epmd", ["-kill"], { env, stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
