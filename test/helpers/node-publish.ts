import type { HeraldNode } from "./cluster.ts";
import { eventually } from "./waiters.ts";

/** POST /publish of `{ topic, data }` to a node; its status and body as text (rejects if it cannot connect). */
export async function publishOnNode(
  node: HeraldNode,
  topic: string,
  data: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${node.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, data }),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * Publishes until the node answers 200 (it follows a failover meanwhile; a failed connection is one
 * more try); fails after 30 s.
 */
export async function publishOnNodeEventually(node: HeraldNode, topic: string, data: string): Promise<void> {
  await eventually(
    async () => (await publishOnNode(node, topic, data)).status === 200,
    `a 2xx for ${data}`,
    30_000,
  );
}
