import type { PublishInput } from "../core/event.ts";
import type { Hub, PublishResult } from "../core/hub.ts";
import { refuseReservedTopics } from "./reserved-topics.ts";
import { refuseReservedType } from "./reserved-types.ts";

/**
 * `Herald.publish`: a publish from the program that embeds Herald (docs/embedding.md), with the
 * checks of `POST /publish` for a publisher allowed every topic: the hub's own event types
 * (`herald.*`, `mercure`) and topics (`$presence/`, `/.well-known/mercure`) are refused with the
 * same HeraldError, then the hub validates, stores and delivers. Nothing is stored when one input
 * is refused. `Hub.publish` itself is the core's: it publishes what it is given (presence and
 * Mercure publish their own events through it).
 */
export async function hostPublish(hub: Hub, inputs: readonly PublishInput[]): Promise<PublishResult[]> {
  for (const input of inputs) {
    refuseReservedType(input.type, "type");
    refuseReservedTopics(input.topics);
  }
  return hub.publish(inputs);
}
