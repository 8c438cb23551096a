import type { PublishInput } from "../core/event.ts";
import { LINEAGE_LUA } from "./redis-failover.ts";

/**
 * The Redis log's wire format: stream ids as positions, the fields of an entry (what producers
 * XADD, docs/buses.md), and the publish script.
 */

/** An entry as XREAD / XRANGE answer it: `[streamId, [field, value, ...]]`. */
export type RawEntry = [string, string[]];

/**
 * Positions are Redis stream ids `<ms>-<seq>` as one number: `ms * 1024 + seq`. They increase in log
 * order and keep increasing across a lost log (they follow the clock). Up to 1024 entries per
 * millisecond are supported (a direct producer writing more in one millisecond is refused on read).
 */
export const SEQ_PER_MS = 1024;

export function streamIdToPos(streamId: string): number | undefined {
  const match = /^(\d+)-(\d+)$/.exec(streamId);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  if (seq >= SEQ_PER_MS) return undefined;
  const pos = Number(match[1]) * SEQ_PER_MS + seq;
  return Number.isSafeInteger(pos) ? pos : undefined; // safe until the year 2248
}

/**
 * The publish script: stores inputs in order, deduplicating publisher ids, in one atomic step.
 * KEYS: stream, ids hash (`<scope>\n<id>` -> stream id of the newest entry of that scope and id),
 * ids zset (the same keys by position), epoch, lineage, unreplicated. First marks a failover in the
 * log if this server is a newly promoted primary (redis-failover.ts), so the marker precedes these
 * entries; then, when ARGV[3] is `1` (this publish is answered without waiting for a replica), the
 * announcement (redis-failover.ts), so it precedes them too.
 * ARGV: maxlen, candidate epoch, unreplicated (`1`|''), acked (redis-failover.ts `lineage`), then 8
 * per input: id, topics (JSON), data, event, retry, private,
 * token, scope ('' = absent). An input is a retry (not stored; answered with the held entry) when
 * the newest entry of its scope and id is still in the stream with the same topics, data, event,
 * retry and private (`sameContent`); any other input is stored. Answers {epoch, replid, streamId1,
 * duplicate1, ...}. Keys whose entry was trimmed are forgotten: up to 100 plus twice the inputs
 * per call (a call adds at most one key per input, so the index shrinks back to the stream's
 * entries however big the batches; deleted 1,000 at a time, under Lua's unpack limit).
 */
export const PUBLISH_SCRIPT = `${LINEAGE_LUA}
local replid = lineage(KEYS[1], KEYS[5], KEYS[6], ARGV[4])
if ARGV[3] == '1' then announce(KEYS[1], KEYS[6], replid) end
local epoch = redis.call('GET', KEYS[4])
if not epoch then redis.call('SET', KEYS[4], ARGV[2]); epoch = ARGV[2] end
local out = {epoch, replid}
local function score(sid)
  local ms, seq = string.match(sid, '^(%d+)-(%d+)$')
  return tonumber(ms) * 1024 + tonumber(seq)
end
local function sameContent(sid, i)
  local entry = redis.call('XRANGE', KEYS[1], sid, sid)[1]
  if not entry then return false end
  local f = {}
  for k = 1, #entry[2], 2 do f[entry[2][k]] = entry[2][k + 1] end
  return f['topics'] == ARGV[i+1] and f['data'] == ARGV[i+2] and (f['event'] or '') == ARGV[i+3]
    and (f['retry'] or '') == ARGV[i+4] and (f['private'] or '') == ARGV[i+5]
end
local i = 5
while i + 7 <= #ARGV do
  local id = ARGV[i]
  local key = ARGV[i+7] .. '\\n' .. id
  local held = false
  if id ~= '' then held = redis.call('HGET', KEYS[2], key) end
  if held and sameContent(held, i) then
    table.insert(out, held); table.insert(out, 1)
  else
    local fields = {'topics', ARGV[i+1], 'data', ARGV[i+2]}
    if id ~= '' then table.insert(fields, 'id'); table.insert(fields, id) end
    if ARGV[i+3] ~= '' then table.insert(fields, 'event'); table.insert(fields, ARGV[i+3]) end
    if ARGV[i+4] ~= '' then table.insert(fields, 'retry'); table.insert(fields, ARGV[i+4]) end
    if ARGV[i+5] ~= '' then table.insert(fields, 'private'); table.insert(fields, ARGV[i+5]) end
    if ARGV[i+6] ~= '' then table.insert(fields, 'herald-token'); table.insert(fields, ARGV[i+6]) end
    if ARGV[i+7] ~= '' then table.insert(fields, 'herald-scope'); table.insert(fields, ARGV[i+7]) end
    local sid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
    if id ~= '' then
      redis.call('HSET', KEYS[2], key, sid)
      redis.call('ZADD', KEYS[3], score(sid), key)
    end
    table.insert(out, sid); table.insert(out, 0)
  end
  i = i + 8
end
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if oldest then
  local limit = 100 + 2 * math.floor((#ARGV - 4) / 8)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. score(oldest[1]), 'LIMIT', 0, limit)
  for j = 1, #gone, 1000 do
    local part = {unpack(gone, j, math.min(j + 999, #gone))}
    redis.call('HDEL', KEYS[2], unpack(part))
    redis.call('ZREM', KEYS[3], unpack(part))
  end
end
return out
`;

export function msOf(streamId: string): number {
  return Number(streamId.slice(0, streamId.indexOf("-")));
}

/**
 * A stream entry's fields (docs/buses.md): `topic` (one) and/or `topics` (a JSON array), `data`,
 * optional `event`, `id`, `retry` (ms), `private` (`true`/`1`); Herald's own `herald-scope` (the
 * publisher's dedup scope) and `herald-token`. Unknown fields are ignored; the result is checked by
 * `deliverEntries`.
 */
export function parseFields(fields: readonly string[]): {
  input: PublishInput;
  token: string | undefined;
  /** Herald's own `herald-control` field (a failover marker, an announcement: redis-failover.ts). */
  control: string | undefined;
  /** A failover marker's `gap` field is `1`: report a gap there whatever this node's wait. */
  gap: boolean;
  /** A marker's or an announcement's `replid`: the primary it was written on. */
  replid: string | undefined;
} {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const topics: string[] = [];
  const one = map.get("topic");
  if (one !== undefined) topics.push(one);
  const many = map.get("topics");
  if (many !== undefined) {
    try {
      const parsed: unknown = JSON.parse(many);
      if (Array.isArray(parsed)) for (const t of parsed) topics.push(t as string);
      else topics.push(many);
    } catch {
      topics.push(many);
    }
  }
  const retry = map.get("retry");
  const priv = map.get("private");
  return {
    input: {
      topics,
      data: map.get("data") as string,
      type: map.get("event"),
      id: map.get("id"),
      retry: retry === undefined ? undefined : Number(retry),
      private: priv === "true" || priv === "1",
      scope: map.get("herald-scope"),
    },
    token: map.get("herald-token"),
    control: map.get("herald-control"),
    gap: map.get("gap") === "1",
    replid: map.get("replid"),
  };
}
