/**
 * How long the Redis log keeps entries: never past the slowest live node, never more than the cap.
 *
 * Every node records, each `READER_BEAT_MS`, in the hash `<prefix>:readers` (field: the node's
 * random id; value: `<keep-from stream id> <Redis time in ms>`), the oldest entry it still needs:
 * the oldest of the events that left its history and that it still remembers
 * (`History.rememberedFrom`: the last `maxEvents` to leave, so a node that starts loads them and
 * refuses a resume from their ids as this one does), else the oldest event of its history (so a
 * node that restarts finds the history), or the last entry it read when it never held one. The same script then trims the stream (`XTRIM MINID ~`) to the
 * oldest keep-from of the nodes heard from within `READER_TTL_MS`, and forgets the others. A node
 * that is stopped (SIGSTOP, a long GC pause, a slow network) for less than the TTL loses nothing;
 * past it, or past the cap (`XADD MAXLEN ~ <retention>` on every publish), it is told of the gap
 * (redis-tail.ts). With no node heard from, nothing is trimmed but by the cap.
 */

/** How often a node records its keep-from and trims. */
export const READER_BEAT_MS = 1000;

/** A node not heard from for this long no longer holds entries back. */
export const READER_TTL_MS = 60_000;

/** The default cap on the stream's entries (`--bus-retention`). */
export const DEFAULT_RETENTION = 100_000;

/**
 * KEYS: stream, readers hash. ARGV: node id, keep-from stream id ('' = only forget and trim), TTL ms.
 * Answers the stream id trimmed to ('' when nothing was trimmed).
 */
export const RETENTION_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. now) end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local all = redis.call('HGETALL', KEYS[2])
local min, minMs, minSeq = nil, nil, nil
for i = 1, #all - 1, 2 do
  local keep, at = string.match(all[i + 1], '^(%d+-%d+) (%d+)$')
  if keep == nil or now - tonumber(at) > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[2], all[i])
  else
    local ms, seq = parse(keep)
    if min == nil or ms < minMs or (ms == minMs and seq < minSeq) then min, minMs, minSeq = keep, ms, seq end
  end
end
if min == nil or redis.call('EXISTS', KEYS[1]) == 0 then return '' end
redis.call('XTRIM', KEYS[1], 'MINID', '~', min)
return min
`;
