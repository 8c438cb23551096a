import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { freePort, type RabbitServer, startRabbit } from "./brokers.ts";

/**
 * A RabbitMQ cluster for tests: `size` nodes on one machine (own node names, ports and data dirs,
 * one shared epmd and Erlang cookie), formed at boot by classic peer discovery. Everything it
 * starts it stops.
 */

export const RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";

export interface RabbitCluster {
  /** `amqp://guest:guest@127.0.0.1:<p1>,127.0.0.1:<p2>,...`: Herald's `--bus` for the cluster. */
  readonly url: string;
  readonly nodes: readonly RabbitServer[];
  /** The nodes `rabbitmqctl cluster_status` on `via` reports running. */
  running(via: RabbitServer): string[];
  stop(): Promise<void>;
}

function ctl(node: RabbitServer, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync(RABBITMQCTL, ["-n", node.nodeName, ...args], {
    env: node.env,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ok: result.status === 0, out: `${result.stdout}${result.stderr}` };
}

/** Starts `size` nodes (3 by default) at once and waits until each sees all of them running. */
export async function startRabbitCluster(size = 3): Promise<RabbitCluster> {
  const epmdPort = await freePort();
  const cookie = randomBytes(16).toString("hex").toUpperCase();
  const ports: number[] = [];
  for (let i = 0; i < size; i++) ports.push(await freePort());
  const conf = [
    "cluster_formation.peer_discovery_backend = classic_config",
    ...ports.map((port, i) => `cluster_formation.classic_config.nodes.${i + 1} = herald${port}@localhost`),
    "",
  ].join("\n");
  const started = await Promise.allSettled(
    ports.map((port) => startRabbit({ port, epmdPort, cookie, conf })),
  );
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const running = (via: RabbitServer): string[] => {
    const status = ctl(via, ["cluster_status", "--formatter", "json"]);
    if (!status.ok) return [];
    try {
      return (JSON.parse(status.out) as { running_nodes: string[] }).running_nodes;
    } catch {
      return [];
    }
  };
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    for (const node of nodes) await node.stop();
    if (nodes[0] !== undefined) spawnSync("/usr/bin/epmd", ["-kill"], { env: nodes[0].env, stdio: "ignore" });
  };
  try {
    if (nodes.length < size) {
      const failed = started.find((r) => r.status === "rejected") as PromiseRejectedResult;
      throw failed.reason;
    }
    const deadline = Date.now() + 120_000;
    while (!nodes.every((node) => running(node).length === size)) {
      if (Date.now() > deadline)
        throw new Error(
          `the RabbitMQ nodes did not form a cluster of ${size}: ${ctl(nodes[0]!, ["cluster_status"]).out}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `amqp://guest:guest@${ports.map((port) => `127.0.0.1:${port}`).join(",")}`,
    nodes,
    running,
    stop,
  };
}
