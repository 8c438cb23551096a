import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { exited, freePort, REDIS_BIN, type RedisServer, startRedis, waitForPort } from "./brokers.ts";
import { redisTlsArgs, type TestCerts } from "./tls-certs.ts";

/**
 * Replicated Redis for tests, on one machine with free ports and temporary directories: a primary
 * with replicas watched by Sentinels, or a Redis Cluster of primaries with a replica each. Both
 * can lose their primary (SIGKILL by pid) and say when the failover is done. Everything they start
 * they stop by pid. The data nodes run without persistence: what survives a primary's crash is what
 * reached a replica (Herald's `wait=` setting).
 */

export const REDIS_CLI = "/usr/bin/redis-cli";

/** Sends one command to the Redis (or Sentinel) at `port` on a short-lived connection. */
export async function redisCommand(port: number, args: string[], password?: string): Promise<unknown> {
  return (await redisCommands(port, [args], password))[0];
}

/**
 * Sends commands in turn on one short-lived connection to the Redis at `port` (authenticated with
 * `password` when given); answers their replies.
 */
export async function redisCommands(
  port: number,
  commands: string[][],
  password?: string,
): Promise<unknown[]> {
  const client = createClient({
    ...(password === undefined ? {} : { password }),
    socket: { host: "127.0.0.1", port, connectTimeout: 2000, reconnectStrategy: false },
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const replies: unknown[] = [];
    for (const args of commands) replies.push(await client.sendCommand(args));
    return replies;
  } finally {
    client.destroy();
  }
}

/** `INFO <section>` of the Redis at `port` as a map. */
export async function redisInfo(port: number, section: string): Promise<Map<string, string>> {
  const text = String(await redisCommand(port, ["INFO", section]));
  const map = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

export async function waitFor(test: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every replica of the primary at `port` is connected and caught up (`master_link_status:up`). */
export async function replicasUp(port: number, replicas: number): Promise<boolean> {
  const info = await redisInfo(port, "replication");
  if (info.get("role") !== "master" || Number(info.get("connected_slaves")) < replicas) return false;
  for (let i = 0; i < replicas; i++) if (!/state=online/.test(info.get(`slave${i}`) ?? "")) return false;
  return true;
}

export interface SentinelGroup {
  /** `redis+sentinel://127.0.0.1:<s1>,.../<masterName>`, Herald's `--bus` (append `?wait=...`). */
  readonly url: string;
  readonly masterName: string;
  /** The data nodes (the first one is the primary at start). */
  readonly servers: readonly RedisServer[];
  /** The data node the Sentinels name primary now. */
  primary(): Promise<RedisServer>;
  /** SIGKILLs the current primary (by pid) and answers it. */
  killPrimary(): Promise<RedisServer>;
  /** Resolves once the Sentinels name a primary other than `old` and it answers as a primary. */
  failedOver(old: RedisServer, ms?: number): Promise<RedisServer>;
  stop(): Promise<void>;
}

/**
 * A primary with `replicas` replicas and `sentinels` Sentinels (quorum: a majority), failing over
 * after 1.5 s without an answer. Resolves once every Sentinel knows every replica and the other
 * Sentinels (so a failover can be elected). `sentinelPassword`: the Sentinels ask it of their
 * clients (`requirepass` in sentinel.conf; they also give it to each other); the data nodes ask none.
 * `tls`: every node and Sentinel also serves TLS with these certificates on a second port, and they
 * reach each other over TLS (`tls-replication yes`), so the Sentinels name TLS ports only; `url` is
 * then `rediss+sentinel://` on the Sentinels' TLS ports (the plain ports stay, for this helper).
 */
export async function startSentinelGroup(
  options: { replicas?: number; sentinels?: number; sentinelPassword?: string; tls?: TestCerts } = {},
): Promise<SentinelGroup> {
  const replicaCount = options.replicas ?? 2;
  const sentinelCount = options.sentinels ?? 3;
  const sentinelPassword = options.sentinelPassword;
  const certs = options.tls;
  /** A data node's or Sentinel's TLS port by its plain port (with `tls`). */
  const tlsPorts = new Map<number, number>();
  const tlsArgs = async (plain: number): Promise<string[]> => {
    if (certs === undefined) return [];
    const tlsPort = await freePort();
    tlsPorts.set(plain, tlsPort);
    return ["--tls-port", String(tlsPort), "--tls-replication", "yes", ...redisTlsArgs(certs)];
  };
  /** The port the others reach a node on (its TLS port with `tls`). */
  const served = (plain: number) => tlsPorts.get(plain) ?? plain;
  const masterName = "herald";
  const servers: RedisServer[] = [];
  const sentinels: { port: number; child: ChildProcess; dir: string }[] = [];
  const stop = async () => {
    for (const s of sentinels) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill("SIGKILL");
        await exited(s.child);
      }
      rmSync(s.dir, { recursive: true, force: true });
    }
    for (const server of servers) {
      await server.kill();
      await server.stop();
    }
  };
  try {
    const startNode = async (args: string[]) => {
      const port = await freePort();
      return startRedis({ port, args: [...args, ...(await tlsArgs(port))] });
    };
    const primary = await startNode([]);
    servers.push(primary);
    for (let i = 0; i < replicaCount; i++)
      servers.push(await startNode(["--replicaof", "127.0.0.1", String(served(primary.port))]));
    await waitFor(() => replicasUp(primary.port, replicaCount), "the replicas to sync", 20_000);
    const quorum = Math.floor(sentinelCount / 2) + 1;
    for (let i = 0; i < sentinelCount; i++) {
      const dir = mkdtempSync(join(tmpdir(), "herald-sentinel-"));
      const port = await freePort();
      const tls = await tlsArgs(port);
      const conf = join(dir, "sentinel.conf");
      writeFileSync(
        conf,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${served(primary.port)} ${quorum}`,
          `sentinel down-after-milliseconds ${masterName} 1500`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 2`,
          ...(sentinelPassword === undefined ? [] : [`requirepass ${sentinelPassword}`]),
          // "--name value" pairs as config lines
          ...tls.flatMap((arg, i) => (i % 2 === 0 ? [`${arg.slice(2)} ${tls[i + 1]}`] : [])),
          "",
        ].join("\n"),
      );
      const child = spawn(REDIS_BIN, [conf, "--sentinel"], { stdio: "ignore" });
      sentinels.push({ port, child, dir });
      await waitForPort(port, 10_000, "redis-server --sentinel", child);
    }
    // Sentinels find the replicas and each other through the primary (hello messages every 2 s)
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const fields = (await redisCommand(
            s.port,
            ["SENTINEL", "MASTER", masterName],
            sentinelPassword,
          )) as string[];
          const get = (name: string) => Number(fields[fields.indexOf(name) + 1]);
          if (get("num-slaves") < replicaCount || get("num-other-sentinels") < sentinelCount - 1)
            return false;
        }
        return true;
      },
      "the Sentinels to know the replicas and each other",
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const primaryPort = async (): Promise<number> => {
    for (const s of sentinels) {
      if (s.child.exitCode !== null) continue;
      try {
        const [, port] = (await redisCommand(
          s.port,
          ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName],
          sentinelPassword,
        )) as [string, string];
        return Number(port);
      } catch {
        // the next Sentinel
      }
    }
    throw new Error("no Sentinel answers");
  };
  const byPort = (port: number) => {
    const server = servers.find((s) => s.port === port || tlsPorts.get(s.port) === port);
    if (server === undefined) throw new Error(`the Sentinels name an unknown primary on port ${port}`);
    return server;
  };
  const scheme = certs === undefined ? "redis+sentinel" : "rediss+sentinel";
  return {
    url: `${scheme}://${sentinels.map((s) => `127.0.0.1:${served(s.port)}`).join(",")}/${masterName}`,
    masterName,
    servers,
    primary: async () => byPort(await primaryPort()),
    async killPrimary() {
      const primary = byPort(await primaryPort());
      await primary.kill();
      return primary;
    },
    async failedOver(old, ms = 30_000) {
      let next: RedisServer | undefined;
      await waitFor(
        async () => {
          const port = await primaryPort();
          if (port === old.port) return false;
          next = byPort(port);
          return (await redisInfo(next.port, "replication")).get("role") === "master";
        },
        "the Sentinels to promote a replica",
        ms,
      );
      return next as RedisServer;
    },
    stop,
  };
}

export interface ClusterGroup {
  /** `redis+cluster://127.0.0.1:<p1>,...` (every primary at start), Herald's `--bus`. */
  readonly url: string;
  readonly servers: readonly RedisServer[];
  /** The data node that serves `key`'s slot as primary now. */
  primaryOf(key: string): Promise<RedisServer>;
  /** Resolves once a node other than `old` serves `key`'s slot as primary and the cluster is ok. */
  failedOver(old: RedisServer, key: string, ms?: number): Promise<RedisServer>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `primaries` primaries with `replicasPer` replicas each (`redis-cli --cluster
 * create ... --cluster-replicas`), a node declared failed after 1 s without an answer. `tls`: every
 * node also serves TLS on a second port, the cluster bus and replication run over TLS
 * (`tls-cluster yes`), so the cluster names TLS ports to TLS clients; `url` is then
 * `rediss+cluster://` on TLS ports (the plain ports stay, for this helper).
 */
export async function startRedisCluster(
  options: { primaries?: number; replicasPer?: number; tls?: TestCerts } = {},
): Promise<ClusterGroup> {
  const primaries = options.primaries ?? 3;
  const replicasPer = options.replicasPer ?? 1;
  const certs = options.tls;
  const tlsPorts = new Map<number, number>();
  const servers: RedisServer[] = [];
  const stop = async () => {
    for (const server of servers) {
      await server.kill();
      await server.stop();
    }
  };
  try {
    for (let i = 0; i < primaries * (1 + replicasPer); i++) {
      const port = await freePort();
      const tls: string[] = [];
      if (certs !== undefined) {
        const tlsPort = await freePort();
        tlsPorts.set(port, tlsPort);
        tls.push("--tls-port", String(tlsPort), "--tls-cluster", "yes", "--tls-replication", "yes");
        tls.push(...redisTlsArgs(certs));
      }
      servers.push(
        await startRedis({
          port,
          args: [
            ...["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
            ...["--cluster-port", String(await freePort()), "--cluster-node-timeout", "1000"],
            ...["--cluster-replica-validity-factor", "0", "--cluster-require-full-coverage", "no"],
            ...tls,
          ],
        }),
      );
    }
    const create = spawnSync(
      REDIS_CLI,
      [
        "--cluster",
        "create",
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        "--cluster-replicas",
        String(replicasPer),
        "--cluster-yes",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await waitFor(
      async () => {
        for (const s of servers)
          if ((await redisInfo(s.port, "cluster")).get("cluster_enabled") !== "1") return false;
        for (const s of servers) {
          const info = String(await redisCommand(s.port, ["CLUSTER", "INFO"]));
          if (!info.includes("cluster_state:ok")) return false;
        }
        let replicas = 0;
        for (const s of servers) {
          const info = await redisInfo(s.port, "replication");
          if (info.get("role") === "slave" && info.get("master_link_status") === "up") replicas++;
        }
        return replicas === primaries * replicasPer;
      },
      "the cluster to be ok with every replica in sync",
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const primaryPortOf = async (key: string): Promise<number> => {
    for (const s of servers) {
      if (s.pid === undefined) continue;
      try {
        const slot = Number(await redisCommand(s.port, ["CLUSTER", "KEYSLOT", key]));
        const ranges = (await redisCommand(s.port, ["CLUSTER", "SLOTS"])) as [
          number,
          number,
          [string, number],
        ][];
        const range = ranges.find(([from, to]) => from <= slot && slot <= to);
        if (range !== undefined) return Number(range[2][1]);
      } catch {
        // the next node
      }
    }
    throw new Error(`no cluster node knows who serves ${key}`);
  };
  const byPort = (port: number) => {
    const server = servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`the cluster names an unknown node on port ${port}`);
    return server;
  };
  return {
    url: `${certs === undefined ? "redis+cluster" : "rediss+cluster"}://${servers
      .slice(0, primaries)
      .map((s) => `127.0.0.1:${tlsPorts.get(s.port) ?? s.port}`)
      .join(",")}`,
    servers,
    primaryOf: async (key) => byPort(await primaryPortOf(key)),
    async failedOver(old, key, ms = 30_000) {
      let next: RedisServer | undefined;
      await waitFor(
        async () => {
          const port = await primaryPortOf(key);
          if (port === old.port) return false;
          next = byPort(port);
          const info = String(await redisCommand(port, ["CLUSTER", "INFO"]));
          return info.includes("cluster_state:ok");
        },
        `a replica to take over ${key}'s slot`,
        ms,
      );
      return next as RedisServer;
    },
    stop,
  };
}
