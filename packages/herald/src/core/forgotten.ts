import type { Visible } from "./bus.ts";
import type { HeraldEvent } from "./event.ts";
import { storeEvent } from "./stored-event.ts";

/**
 * The publisher ids of events that left a history (evicted by count, bytes or age, or too large to
 * be held), each with a stub per event that left: its `topics`, `private` flag, `pos` and `time`,
 * never its data, type or scope. A stub says who could have read the event (`Visible` reads only
 * `topics` and `private`), so a resume from its id is refused only to a subscriber that could
 * have seen it, and answers nothing about it to the others.
 *
 * Bound: at most `capacity` stubs in all (the history's `maxEvents`), oldest out; each holds the
 * topics array of its event (itself bounded by the publish limits). Adding and dropping a stub is
 * O(1) (O(stubs of its id) when several events with one id left); `blocks` is O(stubs of the id).
 */
export class ForgottenIds {
  /** Every stub, oldest first (a ring of `capacity`). */
  private readonly ring: (HeraldEvent | undefined)[];
  private start = 0;
  private count = 0;
  /** The stubs per id, oldest first (one stub, or an array when several). */
  private readonly byId = new Map<string, HeraldEvent | HeraldEvent[]>();

  constructor(capacity: number) {
    this.ring = new Array(capacity);
  }

  /** Remembers that `event` (carrying a publisher id) is no longer held; drops the oldest stub past the bound. */
  add(event: HeraldEvent): void {
    if (this.count === this.ring.length) this.dropOldest();
    const stub = storeEvent(
      { topics: event.topics, data: "", private: event.private },
      event.pos,
      event.id,
      event.time,
    );
    this.ring[(this.start + this.count) % this.ring.length] = stub;
    this.count++;
    const stubs = this.byId.get(stub.id);
    if (stubs === undefined) this.byId.set(stub.id, stub);
    else if (Array.isArray(stubs)) stubs.push(stub);
    else this.byId.set(stub.id, [stubs, stub]);
  }

  /**
   * True when an event carrying `id` left the history and `seen` accepts its stub (the subscriber
   * could have seen it); without `seen`, when any event carrying `id` left.
   */
  blocks(id: string, seen?: Visible): boolean {
    const stubs = this.byId.get(id);
    if (stubs === undefined) return false;
    if (seen === undefined) return true;
    return Array.isArray(stubs) ? stubs.some((stub) => seen(stub)) : seen(stubs);
  }

  /** The stubs of the events carrying `id` that left, oldest first (none: empty). */
  stubs(id: string): readonly HeraldEvent[] {
    const stubs = this.byId.get(id);
    if (stubs === undefined) return [];
    return Array.isArray(stubs) ? stubs : [stubs];
  }

  private dropOldest(): void {
    const old = this.ring[this.start] as HeraldEvent;
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.ring.length;
    this.count--;
    // the oldest stub is the first of its id's
    const stubs = this.byId.get(old.id);
    if (stubs === old) this.byId.delete(old.id);
    else if (Array.isArray(stubs)) {
      stubs.shift();
      if (stubs.length === 1) this.byId.set(old.id, stubs[0] as HeraldEvent);
    }
  }
}
