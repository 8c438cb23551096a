/**
 * Failovers in the Redis log: how a node learns that the primary changed, and where.
 *
 * Redis replicates asynchronously. A publish answered after `WAIT N` (N >= 1) is on N replicas, and
 * a failover promotes the most up-to-date replica (Sentinel and Cluster both do), so nothing
 * acknowledged is lost. With N = 0 the old primary may have acknowledged entries it never passed
 * on: the new primary lacks them, and nodes that had not read them yet never will. Herald cannot
 * tell which they were, only where they would have been: after the last entry the new primary got
 * from the old one, before the first entry written to it.
 *
 * That place is marked in the log itself. A replica promoted to primary has a new replication id
 * (`master_replid`) and keeps the old one as `master_replid2`. Every script that reads or writes the
 * log (`LINEAGE_LUA`, run first by the publish and the read scripts) compares the server's
 * replication id with the one stored beside the log (`<prefix>:lineage`, replicated with it). When
 * they differ on a promoted server (`master_replid2` set), the script appends a failover marker
 * (`herald-control failover`) before anything else is written to the new primary, and stores the
 * new id. Since every Herald script does this first, no entry a node writes after the failover comes
 * before the marker. Every node's tail then reads the marker at that place: with N = 0 it reports a
 * gap there (`herald.missed`, reason `gap`, to every stream); with N >= 1 it only skips it. A server
 * restarted from its own files (a new id, `master_replid2` all zeros) is not a failover: no marker.
 *
 * Assumptions (docs/buses.md): stream ids follow the primary's clock, and the new primary's clock is
 * not behind the old one's by more than the failover took (otherwise entries written to the new
 * primary could sort before entries a node read from the old one). Entries a producer XADDs
 * straight to the new primary before any Herald node reads or publishes sort before the marker.
 */

/** The value of the `herald-control` field of a failover marker. */
export const FAILOVER_MARKER = "failover";

/**
 * A Lua function, `lineage(streamKey, lineageKey)`, for the top of a script: writes the failover
 * marker when the server is a promoted replica the log has not seen yet, and answers
 * `replid, promoted (0|1), connected replicas`.
 */
export const LINEAGE_LUA = `
local function lineage(stream, key)
  local info = redis.call('INFO', 'replication')
  local replid = string.match(info, 'master_replid:(%w+)') or ''
  local replid2 = string.match(info, 'master_replid2:(%w+)') or ''
  local replicas = tonumber(string.match(info, 'connected_slaves:(%d+)') or '0')
  local promoted = 0
  if replid2 ~= '' and string.match(replid2, '^0+$') == nil then promoted = 1 end
  if replid ~= '' and string.match(info, 'role:master') then
    local held = redis.call('GET', key)
    if held ~= replid then
      redis.call('SET', key, replid)
      if held and promoted == 1 and redis.call('EXISTS', stream) == 1 then
        redis.call('XADD', stream, '*', 'herald-control', '${FAILOVER_MARKER}', 'replid', replid)
      end
    end
  end
  return replid, promoted, replicas
end
`;
