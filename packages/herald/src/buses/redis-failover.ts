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
 * gap there (`herald.missed`, reason `gap`, to every stream); with N >= 1 it only skips it, unless
 * some node may have acknowledged an entry no replica held (below). A server restarted from its own
 * files (a new id, `master_replid2` all zeros) is not a failover: no marker.
 *
 * `wait` is each node's own (`auto` is decided per node), so a node that waits for a replica cannot
 * tell from its own setting that nothing was lost: another node may have answered with wait 0. Such
 * acknowledgements are recorded three ways, each a write per primary (not per publish):
 * - in the log, in order: a node that acknowledges with wait 0 appends an announcement
 *   (`herald-control unreplicated`) on a primary before its first such publish there (the publish
 *   script does it, and a node whose wait is 0 at start does it then). Every node that reads an
 *   announcement treats the next failover marker as a gap: a node that read any entry the new
 *   primary lacks also read the announcement before it;
 * - beside the log: the hash `<prefix>:unreplicated` (field `acked`: the replication id the
 *   announcement was made on). A failover marker is written with `gap 1` when the field is set (it
 *   reached the new primary), or when the node whose script writes the marker acknowledged with
 *   wait 0 on another primary; the field is then cleared (counted from the marker on);
 * - by the node itself, late: a node that acknowledged with wait 0 on a primary that is no longer
 *   the primary, when its next script finds the marker already written without a gap (another node
 *   wrote it, the field did not reach the new primary), appends a second marker with `gap 1`, once
 *   per failover (field `told`: the replication id whose failover was reported as a gap).
 * A node reports at most one gap per failover (markers carry the new primary's replication id). A
 * gap reported this way may be spurious (the announced node acknowledged nothing, or its entries
 * did reach the new primary): that costs a `herald.missed`, never a silent loss. The one case left:
 * a node that did not read the announcement, when the field did not reach the new primary and the
 * node that acknowledged with wait 0 never runs a script on the new primary (it died too).
 *
 * Assumptions (docs/buses.md): stream ids follow the primary's clock, and the new primary's clock is
 * not behind the old one's by more than the failover took (otherwise entries written to the new
 * primary could sort before entries a node read from the old one). Entries a producer XADDs
 * straight to the new primary before any Herald node reads or publishes sort before the marker.
 */

/** The value of the `herald-control` field of a failover marker. */
export const FAILOVER_MARKER = "failover";

/** The value of the `herald-control` field of an announcement: a node acknowledges with wait 0 here. */
export const UNREPLICATED_MARKER = "unreplicated";

/**
 * Lua functions for the top of a script.
 *
 * `lineage(stream, lineageKey, unreplicatedKey, acked)`: writes the failover marker when the server
 * is a promoted replica the log has not seen yet (`gap 1` when the `acked` field is set or `acked`,
 * the replication id this node last acknowledged on with wait 0 ('' = none), names another
 * primary), or the late marker (above); answers `replid, promoted (0|1), connected replicas`.
 *
 * `announce(stream, unreplicatedKey, replid)`: appends the announcement unless one was made on
 * this primary since the last failover marker.
 */
export const LINEAGE_LUA = `
local function lineage(stream, key, unrep, acked)
  local info = redis.call('INFO', 'replication')
  local replid = string.match(info, 'master_replid:(%w+)') or ''
  local replid2 = string.match(info, 'master_replid2:(%w+)') or ''
  local replicas = tonumber(string.match(info, 'connected_slaves:(%d+)') or '0')
  local promoted = 0
  if replid2 ~= '' and string.match(replid2, '^0+$') == nil then promoted = 1 end
  if replid ~= '' and string.match(info, 'role:master') then
    local held = redis.call('GET', key)
    local mine = acked ~= '' and acked ~= replid
    if held ~= replid then
      redis.call('SET', key, replid)
      if held and promoted == 1 and redis.call('EXISTS', stream) == 1 then
        if mine or redis.call('HEXISTS', unrep, 'acked') == 1 then
          redis.call('XADD', stream, '*', 'herald-control', '${FAILOVER_MARKER}', 'replid', replid, 'gap', '1')
          redis.call('HSET', unrep, 'told', replid)
        else
          redis.call('XADD', stream, '*', 'herald-control', '${FAILOVER_MARKER}', 'replid', replid)
        end
      end
      redis.call('HDEL', unrep, 'acked')
    elseif mine and promoted == 1 and redis.call('HGET', unrep, 'told') ~= replid
      and redis.call('EXISTS', stream) == 1 then
      redis.call('XADD', stream, '*', 'herald-control', '${FAILOVER_MARKER}', 'replid', replid, 'gap', '1')
      redis.call('HSET', unrep, 'told', replid)
    end
  end
  return replid, promoted, replicas
end
local function announce(stream, unrep, replid)
  if replid ~= '' and redis.call('HGET', unrep, 'acked') ~= replid then
    redis.call('HSET', unrep, 'acked', replid)
    redis.call('XADD', stream, '*', 'herald-control', '${UNREPLICATED_MARKER}', 'replid', replid)
  end
end
`;

/**
 * KEYS: stream, lineage, unreplicated. ARGV: acked (as `lineage`). The announcement of a node
 * whose wait is 0 when it starts (or syncs again). Answers the replication id.
 */
export const ANNOUNCE_SCRIPT = `${LINEAGE_LUA}
local replid = lineage(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
announce(KEYS[1], KEYS[3], replid)
return replid
`;
