import { encodeEvent } from "./encoder.ts";
import type { HeraldEvent, PublishInput } from "./event.ts";

/**
 * The event a bus stores for a checked input: its fields, the log's `pos`, `id` (the publisher's
 * or a hub id) and `time`, and its wire bytes encoded once here for every subscriber.
 * Contract: `input` was validated (`validatePublish`); nothing is checked again.
 */
export function storeEvent(input: PublishInput, pos: number, id: string, time: number): HeraldEvent {
  return {
    pos,
    id,
    topics: input.topics,
    data: input.data,
    type: input.type,
    retry: input.retry,
    private: input.private === true,
    time,
    bytes: encodeEvent({ id, type: input.type, retry: input.retry, data: input.data }),
  };
}
