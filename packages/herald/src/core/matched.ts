import type { HeraldEvent } from "./event.ts";
import { selectorMatches, selectorText, type TopicSelector } from "./topic.ts";

/**
 * The "matched" tagging of a stream that asked for it (`GET /events?announce=1&matched=1`,
 * docs/streams.md): each event it is sent starts with a comment line naming which of its
 * selectors matched the event, as indices into its topic list, before the event's own fields:
 *
 *   : matched 0 2
 *   id: 42
 *   data: ...
 *
 * SSE clients ignore comment lines, so the event itself is byte for byte what every other stream
 * gets. Contract:
 * - index i is named when selector i matches one of the event's topics: exactly when a stream of
 *   that selector alone, with the same token, would have been sent the event (private rights are
 *   the stream's, not the selector's, so a private event is tagged only once the stream may read
 *   it at all: one it may not read is never written, tagged or not);
 * - the indices refer to the stream's topic list at the moment the event is written: the list the
 *   `herald.stream` event announced, then the one the last `: topics` line (`topicsLine`) said;
 * - the hub's own events (no topic: `herald.missed`) carry no line: they concern the whole stream.
 * Cost: computed only for such streams, per event written to them (one check per selector and
 * topic); every other stream shares the event's bytes as before.
 */
const utf8 = new TextEncoder();

/** The event's bytes for a tagged stream of `selectors`: its `: matched` line, then the event. */
export function taggedBytes(selectors: readonly TopicSelector[], event: HeraldEvent): Uint8Array {
  if (event.topics.length === 0) return event.bytes;
  const line = utf8.encode(`: matched${matchedIndices(selectors, event.topics)}\n`);
  const out = new Uint8Array(line.length + event.bytes.length);
  out.set(line, 0);
  out.set(event.bytes, line.length);
  return out;
}

/** " 0 2": a space before each index of `selectors` that matches one of `topics`. */
function matchedIndices(selectors: readonly TopicSelector[], topics: readonly string[]): string {
  let out = "";
  for (let i = 0; i < selectors.length; i++) {
    const selector = selectors[i] as TopicSelector;
    if (topics.some((topic) => selectorMatches(selector, topic))) out += ` ${i}`;
  }
  return out;
}

/**
 * The comment block a tagged stream gets where its topic list changed (a live change applied):
 * `: topics ["a","b/*"]`, the list (JSON) the indices of the events after it refer to.
 */
export function topicsLine(selectors: readonly TopicSelector[]): Uint8Array {
  return utf8.encode(`: topics ${JSON.stringify(selectors.map(selectorText))}\n\n`);
}
