import { type HeraldNode, startNode } from "./cluster.ts";
import { publishOnNodeEventually } from "./node-publish.ts";
import { RecordingClient } from "./sse-client.ts";

/**
 * Starts a Herald node on `busUrl` (with `args`) and opens a stream on it for topic `t` recording
 * `message` and `herald.missed`; publishes `e1` on the node (until answered 200) and returns once the
 * stream got it. Pushes onto `cleanup`, in this order, a step that resumes (SIGCONT: the test may have
 * stopped it) and kills the node, and one that closes the stream; the caller runs them in reverse.
 */
export async function startNodeWithStream(
  busUrl: string,
  args: string[],
  cleanup: (() => Promise<void>)[],
): Promise<{ node: HeraldNode; client: RecordingClient }> {
  const node = await startNode(busUrl, args);
  cleanup.push(async () => {
    process.kill(node.pid, "SIGCONT");
    await node.kill("SIGKILL");
  });
  const client = new RecordingClient(`${node.url}/events?topic=t`, ["message", "herald.missed"]);
  cleanup.push(async () => client.close());
  await client.opened();
  await publishOnNodeEventually(node, "t", "e1");
  await client.until(() => client.datas().includes("e1"));
  return { node, client };
}
