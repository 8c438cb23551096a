import type { RecentIds } from "../../packages/herald-client/src/share/recent-ids.ts";

/**
 * What a shared-stream tab shows of `stream`, in order, through its `RecentIds`: items are event
 * ids, and `@id` is the host's `at` message (a new leader resumed after `id`).
 */
export function shown(recent: RecentIds, stream: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of stream) {
    if (item.startsWith("@")) recent.resumedAfter(item.slice(1));
    else if (!recent.repeated(item)) out.push(item);
  }
  return out;
}
