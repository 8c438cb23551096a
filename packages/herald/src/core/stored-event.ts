import { encodeEvent } from "./encoder.ts";
import type { HeraldEvent, PublishInput } from "./event.ts";

/**
 * An event as a bus stores it: its fields, the log's `pos`, `id` (the publisher's or a hub id),
 * `time` and the publisher's `scope`. Its wire bytes are encoded on first use and then shared by
 * every subscriber: a node (or the cluster primary) that has no subscriber for it never encodes it.
 * The scope is never encoded.
 */
class StoredEvent implements HeraldEvent {
  readonly type: string | undefined;
  readonly retry: number | undefined;
  readonly private: boolean;
  readonly scope: string | undefined;
  private encoded: Uint8Array | undefined;

  constructor(
    readonly pos: number,
    readonly id: string,
    readonly topics: readonly string[],
    readonly data: string,
    input: PublishInput,
    readonly time: number,
  ) {
    this.type = input.type;
    this.retry = input.retry;
    this.private = input.private === true;
    this.scope = input.scope;
  }

  get bytes(): Uint8Array {
    if (this.encoded === undefined) {
      this.encoded = encodeEvent({ id: this.id, type: this.type, retry: this.retry, data: this.data });
    }
    return this.encoded;
  }
}

/**
 * The event a bus stores for a checked input.
 * Contract: `input` was validated (`validatePublish`); nothing is checked again.
 */
export function storeEvent(input: PublishInput, pos: number, id: string, time: number): HeraldEvent {
  return new StoredEvent(pos, id, input.topics, input.data, input, time);
}

/**
 * True when `input` asks for exactly what `event` holds: the same topics (in order), data, type,
 * retry and private flag. Only such an input is a retry; the same id with other content is a new event.
 */
export function sameContent(event: HeraldEvent, input: PublishInput): boolean {
  if (event.data !== input.data || event.type !== input.type || event.retry !== input.retry) return false;
  if (event.private !== (input.private === true)) return false;
  if (event.topics.length !== input.topics.length) return false;
  for (let i = 0; i < event.topics.length; i++) if (event.topics[i] !== input.topics[i]) return false;
  return true;
}
