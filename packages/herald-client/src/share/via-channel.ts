import type { MakeUpstream } from "./host.ts";
import { StreamHost } from "./host.ts";
import type { Deliver, HostMessage, TabMessage } from "./messages.ts";

/**
 * Joins a shared stream through a BroadcastChannel, where there is no SharedWorker. The tabs of a
 * group elect a leader with a Web Lock: the tab holding `herald-client:leader:<key>` runs the
 * stream (a StreamHost) and posts every event on the channel; the others wait for the lock. When the
 * leader's tab closes the browser releases the lock, the next tab in line takes it and starts the
 * stream again, with the topics the old one had and Last-Event-ID = the last id of the stream it
 * saw (every tab sees every event on the channel, and keeps those of its topics): the hub replays
 * what was published meanwhile (no gap), and each tab drops ids it already has (no duplicate).
 *
 * `lastId()`: the last id of the stream this tab saw. Returns the function that leaves (and resigns).
 */
export function joinViaChannel(
  join: Extract<TabMessage, { t: "join" }>,
  deliver: Deliver,
  makeUpstream: MakeUpstream,
  lastId: () => string | undefined,
): () => void {
  const channel = new BroadcastChannel(`herald-client:${join.key}`);
  const resign = new AbortController();
  let host: StreamHost | undefined;
  /** The stream's topics, as its leader last told them: a new leader starts with them (no gap for the others). */
  let streamTopics: readonly string[] = [];
  channel.onmessage = (event: MessageEvent<TabMessage | HostMessage>) => {
    const message = event.data;
    if (host !== undefined) {
      if (message.t === "join") host.join(message.member, undefined, message.lock, message.options.topics);
      else if (message.t === "leave") host.leaveAsked(message.member);
      return;
    }
    if (message.t === "who") channel.postMessage(join);
    else if (message.t === "topics") streamTopics = message.topics;
    else if (message.t !== "join" && message.t !== "leave") deliver(message);
  };
  channel.postMessage(join);
  navigator.locks
    .request(`herald-client:leader:${join.key}`, { signal: resign.signal }, () => {
      const topics = [...new Set([...join.options.topics, ...streamTopics])];
      host = new StreamHost({ ...join.options, topics, lastEventId: lastId() }, makeUpstream, (message) =>
        channel.postMessage(message),
      );
      host.join(join.member, deliver, join.lock, join.options.topics); // its lock too: a leave message cannot drop the leader
      channel.postMessage({ t: "who" } satisfies TabMessage);
      return new Promise<void>((release) => resign.signal.addEventListener("abort", () => release()));
    })
    .catch(() => {}); // aborted: this tab left before it was leader
  return () => {
    if (host === undefined) channel.postMessage({ t: "leave", member: join.member } satisfies TabMessage);
    host?.close();
    resign.abort();
    channel.close();
  };
}
