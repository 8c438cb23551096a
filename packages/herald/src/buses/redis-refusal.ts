/**
 * Redis nodes or Sentinels refusing Herald's credentials: a wrong or missing password, or an ACL
 * user without the rights. Waiting does not fix it, so it is not reported as "unreachable": the
 * message says whose credentials were refused and where in the `--bus` URL they are set. It quotes
 * the server's reply (`WRONGPASS ...`, `NOAUTH ...`), which never echoes a password, and the
 * addresses: never a password.
 */

/** Replies that refuse a connection's credentials (AUTH, or a command before it). */
// "ERR Protocol error: unauthenticated ...": a server with a password cuts a large command (a
// publish's script) sent before AUTH
const REFUSAL =
  /(WRONGPASS|NOAUTH|NOPERM|ERR AUTH|ERR invalid password|ERR Client sent AUTH|ERR Protocol error: unauthenticated)[^\n]*/;

/** The refusing reply quoted in `error` (node-redis may wrap it: "Master Client (h:p): ..."), if any. */
export function refusalOf(error: unknown): string | undefined {
  const text = error instanceof Error ? error.message : String(error);
  return REFUSAL.exec(text)?.[0];
}

export type RefusedParty = "sentinels" | "nodes";

export class RedisCredentialsError extends Error {
  override readonly name = "RedisCredentialsError";

  /**
   * `party`: who refused; `where`: their addresses (whereOf / the Sentinels' list); `reply`: the
   * refusing reply; `gaveSentinelPassword`: whether the URL has `sentinel-password=`.
   */
  constructor(party: RefusedParty, where: string, reply: string, gaveSentinelPassword = false) {
    super(describe(party, where, reply, gaveSentinelPassword));
  }
}

function describe(party: RefusedParty, where: string, reply: string, gave: boolean): string {
  if (party === "nodes") {
    return `Redis at ${where} refused Herald's credentials (${reply}): set the Redis nodes' user and password before the hosts in --bus (redis://user:password@host..., percent-encoded), as their requirepass or ACL user`;
  }
  const head = `the Redis Sentinels at ${where} refused Herald's credentials (${reply})`;
  if (/^NOAUTH/.test(reply) && !gave)
    return `${head}: they ask for a password; add sentinel-password=<their requirepass> (and sentinel-username=<user> for a Sentinel ACL user) to the redis+sentinel:// URL, percent-encoded (the user:password@ before the hosts is the Redis nodes' only)`;
  if (/^ERR AUTH/.test(reply) && gave)
    return `${head}: they ask for no password; remove sentinel-password= (and sentinel-username=) from the redis+sentinel:// URL`;
  return `${head}: check sentinel-password= (and sentinel-username=) in the redis+sentinel:// URL against the Sentinels' requirepass (or sentinel-user / ACL user), percent-encoded (the user:password@ before the hosts is the Redis nodes' only)`;
}
