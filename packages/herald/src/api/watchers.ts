import type { CloseReason, Subscriber } from "../core/subscriber.ts";
import type { StreamWatcher } from "../http/sse/open-stream.ts";
import type { Stream } from "../http/sse/stream.ts";

/**
 * One `StreamWatcher` for a stream watched by several features (stream control, presence): each
 * hook runs on each, in the order given; `opening` awaits them in turn (the first to reject refuses
 * the stream, and the ones already opened are told it closed). Undefined when none watches.
 */
export function watchers(...all: (StreamWatcher | undefined)[]): StreamWatcher | undefined {
  const present = all.filter((w): w is StreamWatcher => w !== undefined);
  if (present.length <= 1) return present[0];
  return new Watchers(present);
}

class Watchers implements StreamWatcher {
  private opened: StreamWatcher[] = [];
  constructor(private readonly all: readonly StreamWatcher[]) {}

  async opening(): Promise<void> {
    for (const watcher of this.all) {
      try {
        await watcher.opening();
      } catch (error) {
        for (const done of this.opened) done.closed(undefined);
        this.opened = [];
        throw error;
      }
      this.opened.push(watcher);
    }
  }

  registered(subscriber: Subscriber, stream: Stream): void {
    for (const watcher of this.all) watcher.registered?.(subscriber, stream);
  }

  closed(reason: CloseReason | undefined): void {
    for (const watcher of this.all) watcher.closed(reason);
  }
}
