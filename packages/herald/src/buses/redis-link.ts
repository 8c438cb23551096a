import {
  createClient,
  createCluster,
  createSentinel,
  ErrorReply,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from "redis";
import type { RedisTarget } from "./redis-url.ts";
import { backoffMs } from "./retry.ts";

/**
 * One connection of the Redis bus to "the primary that holds the log", whatever the deployment:
 * one server (node-redis `createClient`), the primary Sentinels name (`createSentinel`, which follows
 * failovers), or the primary of the log's hash slot in a Redis Cluster (`createCluster`). Every
 * command goes to that primary (never a replica: replicas lag). A node uses two links: one for
 * writes, one for the tail's blocking reads.
 *
 * Contract:
 * - a command is sent at most once: no link retries a command after a connection error (it may
 *   have run), so a publish is never stored twice by a retry here. Redirections (Cluster `MOVED`),
 *   which mean "not run", are followed;
 * - while the primary is unreachable, commands reject at once (no offline queue) with an error
 *   that is not an `ErrorReply`, or within `COMMAND_BOUND_MS` when the client holds them during a
 *   failover; the link keeps reconnecting by itself (`connect` waits for it, `ready` tells);
 * - `sendAndWait` writes and asks `WAIT` on the same connection in one pipeline, so the count
 *   answered is of replicas holding that write, never of a fresh connection's empty history.
 */
export interface RedisLink {
  /** True when commands can be sent now. */
  readonly ready: boolean;
  /** Connects (a no-op when connected); rejects when no server answers. */
  connect(): Promise<void>;
  send(args: readonly string[]): Promise<unknown>;
  /** `args` (a write) then `WAIT replicas timeoutMs`: the write's reply and the replicas that acknowledged it. */
  sendAndWait(
    args: readonly string[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; acked: number }>;
  close(): void;
}

export interface LinkOptions {
  readonly target: RedisTarget;
  /** A key of the log: in a Cluster, every command goes to the primary of its slot. */
  readonly routeKey: string;
  /** Connection errors, as they happen (for /readyz's reason). */
  readonly onError: (error: Error) => void;
}

/** Longest wait for a command a Sentinel client holds while it looks for the primary. */
export const COMMAND_BOUND_MS = 10_000;

const CONNECT_TIMEOUT_MS = 5000;

export function createLink(options: LinkOptions): RedisLink {
  if (options.target.mode === "sentinel") return new SentinelLink(options);
  if (options.target.mode === "cluster") return new ClusterLink(options);
  return new SingleLink(options);
}

const waitArgs = (replicas: number, timeoutMs: number) => ["WAIT", String(replicas), String(timeoutMs)];

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One server: node-redis reconnects by itself (100 ms doubling to 5 s). */
class SingleLink implements RedisLink {
  private readonly client: RedisClientType;

  constructor(options: LinkOptions) {
    this.client = createClient({
      url: options.target.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => backoffMs(retries),
      },
    }) as RedisClientType;
    this.client.on("error", (error: unknown) => options.onError(toError(error)));
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  async connect(): Promise<void> {
    if (!this.client.isOpen) await this.client.connect();
  }

  send(args: readonly string[]): Promise<unknown> {
    return this.client.sendCommand([...args]);
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const [reply, acked] = (await this.client
      .multi()
      .addCommand([...args])
      .addCommand(waitArgs(replicas, timeoutMs))
      .execAsPipeline()) as unknown[];
    return { reply, acked: Number(acked) };
  }

  close(): void {
    try {
      this.client.destroy();
    } catch {
      // already closed
    }
  }
}

/**
 * The primary Sentinels name. node-redis asks the Sentinels, follows `+switch-master`, and holds a
 * command while it looks for the primary: bounded here. `maxCommandRediscovers: 0`: a command that
 * failed is not sent again to the new primary (it may have run on the old one). From a connection
 * error of the primary's client until the primary changes or answers again, the link is not
 * `ready` (publishes are refused at once rather than held); `connect` then asks it a PING.
 */
class SentinelLink implements RedisLink {
  private sentinel: RedisSentinelType | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** False from a connection error of the primary's client until the primary changes or answers. */
  private healthy = true;

  constructor(private readonly options: LinkOptions) {}

  get ready(): boolean {
    return this.sentinel?.isReady === true && this.healthy;
  }

  connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    if (this.sentinel !== undefined) {
      if (!this.healthy) await this.send(["PING"]);
      return;
    }
    const { target, onError } = this.options;
    const sentinel = createSentinel({
      name: target.masterName as string,
      sentinelRootNodes: target.nodes.map((n) => ({ host: n.host, port: n.port })),
      maxCommandRediscovers: 0,
      masterPoolSize: 1,
      passthroughClientErrorEvents: true, // "Master Client (host:port): ..." errors: not healthy
      nodeClientOptions: {
        database: target.database,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        disableOfflineQueue: true,
        socket: {
          connectTimeout: CONNECT_TIMEOUT_MS,
          reconnectStrategy: (retries: number) => backoffMs(retries),
        },
      },
      sentinelClientOptions: { socket: { connectTimeout: CONNECT_TIMEOUT_MS } },
    }) as unknown as RedisSentinelType;
    sentinel.on("error", (error: unknown) => {
      const err = toError(error);
      if (err.message.startsWith("Master Client")) this.healthy = false;
      onError(err);
    });
    sentinel.on("topology-change", (event: { type: string }) => {
      if (event.type === "MASTER_CHANGE") this.healthy = true;
    });
    try {
      await sentinel.connect();
    } catch (error) {
      void sentinel.destroy().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      void sentinel.destroy().catch(() => undefined);
      return;
    }
    this.sentinel = sentinel;
    this.healthy = true;
  }

  private async run<T>(op: (sentinel: RedisSentinelType) => Promise<T>): Promise<T> {
    const sentinel = this.sentinel;
    if (sentinel === undefined) throw new Error("the Redis primary is unreachable");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from the Redis primary within ${COMMAND_BOUND_MS} ms`)),
        COMMAND_BOUND_MS,
      );
      timer.unref();
    });
    try {
      const result = await Promise.race([op(sentinel), bound]);
      this.healthy = true;
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  send(args: readonly string[]): Promise<unknown> {
    return this.run((sentinel) => sentinel.sendCommand(false, [...args]));
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const [reply, acked] = (await this.run((sentinel) =>
      sentinel
        .multi()
        .addCommand(false, [...args])
        .addCommand(false, waitArgs(replicas, timeoutMs))
        .execAsPipeline(),
    )) as unknown[];
    return { reply, acked: Number(acked) };
  }

  close(): void {
    this.closed = true;
    const sentinel = this.sentinel;
    this.sentinel = undefined;
    void sentinel?.destroy().catch(() => undefined);
  }
}

/**
 * The primary of the log's slot in a Redis Cluster. node-redis follows `MOVED`/`ASK` but does not
 * look for a new primary after a connection error: the link then drops the cluster client and
 * builds a new one (which asks the nodes of the URL for the slots again) on the next `connect`.
 */
class ClusterLink implements RedisLink {
  private cluster: RedisClusterType | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: LinkOptions) {}

  get ready(): boolean {
    return this.cluster !== undefined;
  }

  connect(): Promise<void> {
    if (this.cluster !== undefined) return Promise.resolve();
    this.connecting ??= this.build().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async build(): Promise<void> {
    const { target, onError } = this.options;
    const cluster = createCluster({
      rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
      minimizeConnections: true,
      defaults: {
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        disableOfflineQueue: true,
        socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false },
      },
    }) as unknown as RedisClusterType;
    cluster.on("error", (error: unknown) => onError(toError(error)));
    cluster.on("node-error", (error: unknown) => onError(toError(error)));
    try {
      await cluster.connect();
    } catch (error) {
      cluster.destroy();
      throw error;
    }
    if (this.closed) {
      cluster.destroy();
      return;
    }
    this.cluster = cluster;
  }

  private async run<T>(op: (cluster: RedisClusterType) => Promise<T>): Promise<T> {
    const cluster = this.cluster;
    if (cluster === undefined) throw new Error("the Redis Cluster primary of the log is unreachable");
    try {
      return await op(cluster);
    } catch (error) {
      // a lost connection, or a failover under way: ask the cluster for its slots again
      if (
        !(error instanceof ErrorReply) ||
        /^(CLUSTERDOWN|TRYAGAIN|READONLY|MASTERDOWN)/.test(error.message)
      ) {
        if (this.cluster === cluster) this.cluster = undefined;
        cluster.destroy();
      }
      throw error;
    }
  }

  send(args: readonly string[]): Promise<unknown> {
    const key = this.options.routeKey;
    return this.run((cluster) => cluster.sendCommand(key, false, [...args]));
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const key = this.options.routeKey;
    const [reply, acked] = (await this.run((cluster) =>
      cluster
        .multi()
        .addCommand(key, false, [...args])
        .addCommand(key, false, waitArgs(replicas, timeoutMs))
        .execAsPipeline(),
    )) as unknown[];
    return { reply, acked: Number(acked) };
  }

  close(): void {
    this.closed = true;
    const cluster = this.cluster;
    this.cluster = undefined;
    try {
      cluster?.destroy();
    } catch {
      // already closed
    }
  }
}
