import { LINEAGE_LUA } from "./redis-failover.ts";
import { type RawEntry, SEQ_PER_MS } from "./redis-log.ts";

/**
 * How a Redis node reads the log and knows, exactly, whether entries it had not read yet were
 * deleted (the tail's gap check). One script reads a batch and the stream's counters in one atomic
 * step; `checkRead` compares them with what this node read before.
 *
 * Redis 7.0 keeps, per stream: `entries-added` (every entry ever added), `length`,
 * `max-deleted-entry-id` (raised by XDEL only: XTRIM does not touch it, checked on 7.0.15) and
 * `last-generated-id`. The node tracks the ordinal (the `entries-added` count) of the last entry it
 * read. Trims only remove the oldest entries, so the entries held are the last `length` ever added,
 * with ordinals `entries-added - length + 1 ...` when no XDEL left a hole among them; then entries
 * were trimmed before this node read them exactly when `entries-added - length > ordinal`. An XDEL
 * of an entry after the last read one is seen as `max-deleted-entry-id > lastId`.
 */

/**
 * KEYS: stream, epoch, lineage, unreplicated. ARGV: mode (`tail`: the entries after ARGV[2], at
 * most ARGV[3]; `load`: the newest ARGV[3]), lastId, count, acked (redis-failover.ts `lineage`).
 * First marks a failover in the log if this server is a newly promoted primary (redis-failover.ts).
 * Answers {epoch|false, entries, last-generated-id, entries-added (-1 = unknown), length,
 * max-deleted-entry-id, first entry id|false, replid, promoted (0|1), connected replicas}; no
 * stream: {epoch, {}, '0-0', 0, 0, '0-0', false, ...}.
 */
export const READ_SCRIPT = `${LINEAGE_LUA}
local replid, promoted, replicas = lineage(KEYS[1], KEYS[3], KEYS[4], ARGV[4])
local epoch = redis.call('GET', KEYS[2]) or false
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, {}, '0-0', 0, 0, '0-0', false, replid, promoted, replicas}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local f = {}
for i = 1, #info - 1, 2 do f[info[i]] = info[i + 1] end
local first = false
if f['first-entry'] then first = f['first-entry'][1] end
local entries
if ARGV[1] == 'load' then
  entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[3])
else
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])
end
return {epoch, entries, f['last-generated-id'], f['entries-added'] or -1, f['length'],
  f['max-deleted-entry-id'] or '0-0', first, replid, promoted, replicas}
`;

/**
 * KEYS: stream. Answers the stream's `last-generated-id` (the newest entry ever added), or false
 * when there is no stream: where a live-only stream opened now starts (`LogBus.liveHead`).
 */
export const NEWEST_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info - 1, 2 do
  if info[i] == 'last-generated-id' then return info[i + 1] end
end
return false
`;

/** The script's answer, parsed. */
export interface StreamRead {
  readonly epoch: string | null;
  readonly entries: RawEntry[];
  /** The newest id ever added (`0-0`: none). */
  readonly lastGenerated: string;
  /** Entries ever added; undefined before Redis 7.0. */
  readonly added: number | undefined;
  readonly length: number;
  /** The highest id deleted by XDEL (`0-0`: none). */
  readonly maxDeleted: string;
  /** The oldest entry held; undefined when the stream is empty. */
  readonly first: string | undefined;
  /** The primary's replication id ('' when Redis did not say). */
  readonly replid: string;
  /** True when the primary was promoted from a replica (it has a previous replication id). */
  readonly promoted: boolean;
  /** Replicas connected to the primary. */
  readonly replicas: number;
}

export function parseRead(reply: unknown): StreamRead {
  const [epoch, entries, lastGenerated, added, length, maxDeleted, first, replid, promoted, replicas] =
    reply as [
      string | null,
      RawEntry[],
      string,
      number,
      number,
      string,
      string | null,
      string | undefined,
      number | undefined,
      number | undefined,
    ];
  return {
    epoch,
    entries,
    lastGenerated,
    added: added < 0 ? undefined : added,
    length,
    maxDeleted,
    first: first ?? undefined,
    replid: replid ?? "",
    promoted: promoted === 1,
    replicas: replicas ?? 0,
  };
}

/** Where a node's tail stands: the last stream id it read and that entry's ordinal (when known). */
export interface TailPoint {
  readonly lastId: string;
  /** How many entries the stream had ever been added when `lastId` was (its `entries-added`). */
  readonly ordinal: number | undefined;
}

/** The outcome of one read: where the tail stands after it, and the lost entries if any. */
export interface ReadCheck {
  readonly next: TailPoint;
  /** Entries after the last read one, deleted before this node read them: all at or before `pos`. */
  readonly lost?: { readonly pos: number; readonly count?: number };
}

/** Compares stream ids `<ms>-<seq>`: negative, 0 or positive. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am === bm ? as - bs : am - bm;
}

/** A stream id's position (`streamIdToPos`), with a sequence past 1023 counted as 1023. */
function posOf(id: string): number {
  const [ms, seq] = id.split("-").map(Number) as [number, number];
  return ms * SEQ_PER_MS + Math.min(seq, SEQ_PER_MS - 1);
}

/**
 * Checks a tail read (the entries after `point.lastId`, with the stream's counters of the same
 * instant) for entries deleted before this node read them:
 * - the oldest entry held is after `lastId` (or the stream is empty but grew after it): everything
 *   up to `lastId` is gone, so of the `added - ordinal` entries added after it, those not held
 *   (`added - ordinal - length`) were lost. Not counted (Redis before 7.0, ordinal unknown): lost;
 * - otherwise nothing after `lastId` was trimmed (trims remove the oldest), and an XDEL after it
 *   shows as `max-deleted-entry-id > lastId`.
 * The ordinal follows exactly: it is `entries-added` once a read reaches the newest entry, and
 * grows by the entries read while nothing after `lastId` was deleted.
 */
export function checkRead(point: TailPoint, read: StreamRead): ReadCheck {
  const { lastId, ordinal } = point;
  const { entries, added, length, maxDeleted, first, lastGenerated } = read;
  let lostPos: number | undefined;
  let count: number | undefined;
  const newest = first === undefined ? lastGenerated : undefined;
  if (first === undefined ? compareIds(lastGenerated, lastId) > 0 : compareIds(first, lastId) > 0) {
    const notHeld = added !== undefined && ordinal !== undefined ? added - ordinal - length : undefined;
    // negative: the stream was deleted and made again (it counts fewer entries than were read)
    if (notHeld === undefined || notHeld !== 0) {
      lostPos = newest !== undefined ? posOf(newest) : posOf(first as string) - 1;
      if (notHeld !== undefined && notHeld > 0) count = notHeld;
    }
  } else if (compareIds(maxDeleted, lastId) > 0) {
    lostPos = posOf(maxDeleted);
  }
  if (lostPos !== undefined && compareIds(maxDeleted, lastId) > 0)
    lostPos = Math.max(lostPos, posOf(maxDeleted));
  const lastRead = entries.length > 0 ? (entries[entries.length - 1] as RawEntry)[0] : undefined;
  let nextId = lastRead ?? lastId;
  if (newest !== undefined && compareIds(newest, nextId) > 0) nextId = newest;
  if (lastRead === undefined && compareIds(maxDeleted, nextId) > 0) nextId = maxDeleted;
  let nextOrdinal: number | undefined;
  if (added !== undefined && nextId === lastGenerated) nextOrdinal = added;
  else if (lostPos === undefined && ordinal !== undefined) nextOrdinal = ordinal + entries.length;
  else if (
    added !== undefined &&
    first !== undefined &&
    compareIds(maxDeleted, first) < 0 && // no XDEL hole among the held entries
    entries[0]?.[0] === first
  ) {
    nextOrdinal = added - length + entries.length;
  }
  const next = { lastId: nextId, ordinal: nextOrdinal };
  if (lostPos === undefined) return { next };
  return { next, lost: count === undefined ? { pos: lostPos } : { pos: lostPos, count } };
}
