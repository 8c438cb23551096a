import { randomBytes } from "node:crypto";
import type { RedisServer } from "./brokers.ts";
import { redisCommands, redisInfo, type SentinelGroup } from "./redis-ha.ts";
import { eventually } from "./waiters.ts";

// Ways to make a Sentinel group's primary take writes its replicas never get (the setup of a
// failover that loses an acknowledged event). Each returns once the replicas are cut off.

/**
 * The replicas' links to `primary` drop and stay down: the replicas now send it `masterauth`, a
 * password it has not (returns once the primary has no connected replica). `""` lets them follow a
 * primary again (returns at once).
 */
export async function setReplicaLinks(
  group: SentinelGroup,
  primary: RedisServer,
  masterauth: string,
): Promise<void> {
  for (const replica of group.servers.filter((s) => s !== primary))
    await redisCommands(replica.port, [["CONFIG", "SET", "masterauth", masterauth]]);
  if (masterauth === "") return;
  await redisCommands(primary.port, [["CLIENT", "KILL", "TYPE", "replica"]]);
  await eventually(
    async () => (await redisInfo(primary.port, "replication")).get("connected_slaves") === "0",
    "the primary without a connected replica",
  );
}

/**
 * The replicas stop receiving from `primary`: it now wants a random password, and their links are
 * dropped (returns once every replica's link is down). Not undone: the primary is meant to die.
 */
export async function cutReplication(group: SentinelGroup, primary: RedisServer): Promise<void> {
  await redisCommands(primary.port, [
    ["CONFIG", "SET", "requirepass", randomBytes(8).toString("hex")],
    ["CLIENT", "KILL", "TYPE", "replica"],
  ]);
  for (const replica of group.servers.filter((s) => s !== primary))
    await eventually(
      async () => (await redisInfo(replica.port, "replication")).get("master_link_status") === "down",
      "a replica's link to the primary down",
    );
}
