/**
 * The Redis forms of `--bus` (docs/buses.md), parsed and checked without I/O:
 *
 * - `redis://[user:pass@]host:port[/db]` (or `rediss://`): one Redis server;
 * - `redis+sentinel://[user:pass@]host:port,host:port/<master name>[/db]`: the primary that the
 *   Sentinels at those addresses name (followed across failovers);
 * - `redis+cluster://[user:pass@]host:port,host:port`: a Redis Cluster (any of its nodes; the log's
 *   keys share one hash slot).
 *
 * Each takes Herald's own query parameters: `wait` (replicas that must hold a publish before it is
 * answered 2xx: a whole number, or `auto`, the default: 1 once the primary was seen with a replica,
 * else 0) and `wait-timeout` (how long a publish waits for them: `500ms`, `2s`; default 2s). The
 * user and password are those of the Redis nodes (Sentinels are reached without them).
 */

export type RedisMode = "single" | "sentinel" | "cluster";

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisTarget {
  readonly mode: RedisMode;
  /** single: the URL for node-redis (without Herald's parameters). */
  readonly url?: string;
  /** sentinel: the Sentinels; cluster: the nodes to discover the cluster from; single: the server. */
  readonly nodes: readonly RedisAddress[];
  /** sentinel: the name the Sentinels know the primary by. */
  readonly masterName?: string;
  /** sentinel: the database number (single: in `url`; cluster: always 0). */
  readonly database: number;
  readonly username?: string;
  readonly password?: string;
  /** Replicas a publish waits for (`WAIT`); "auto": 1 once the primary was seen with a replica. */
  readonly wait: number | "auto";
  readonly waitTimeoutMs: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 2000;

const FORMS =
  "redis://host:port/db, redis+sentinel://host:port,host:port/<master name>/db or redis+cluster://host:port,host:port, with optional ?wait=<replicas|auto>&wait-timeout=<duration>";

export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

/** True for the values of `--bus` that name a Redis (any form). */
export function isRedisUrl(text: string): boolean {
  return /^(rediss?|redis\+sentinel|redis\+cluster):\/\//.test(text);
}

/** What is wrong with `text` as a Redis `--bus` value; undefined when it is fine or not a Redis URL. */
export function redisUrlProblem(text: string): string | undefined {
  if (!isRedisUrl(text)) return undefined;
  try {
    parseRedisUrl(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Parses a Redis `--bus` value; throws `RedisUrlError` saying what is wrong and what is accepted. */
export function parseRedisUrl(text: string): RedisTarget {
  const scheme = /^([a-z+]+):\/\//.exec(text)?.[1];
  const bad = (why: string) => new RedisUrlError(`${why}; use ${FORMS}`);
  if (scheme === undefined || !isRedisUrl(text))
    throw bad(`${JSON.stringify(redact(text))} is not a Redis URL`);
  const rest = text.slice(scheme.length + 3);
  const query = rest.indexOf("?");
  const params = new URLSearchParams(query < 0 ? "" : rest.slice(query + 1));
  const { wait, waitTimeoutMs } = herald(params, bad);
  const body = query < 0 ? rest : rest.slice(0, query);
  if (scheme === "redis" || scheme === "rediss") {
    let url: URL;
    try {
      url = new URL(`${scheme}://${body}`);
    } catch {
      throw bad(`${JSON.stringify(redact(text))} is not a valid URL`);
    }
    const database = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    if (!/^\/?(\d+)?$/.test(url.pathname))
      throw bad(`the database in ${JSON.stringify(redact(text))} must be a number`);
    return {
      mode: "single",
      url: url.toString(),
      nodes: [{ host: url.hostname, port: Number(url.port || "6379") }],
      database,
      wait,
      waitTimeoutMs,
    };
  }
  const at = body.lastIndexOf("@");
  const credentials = at < 0 ? "" : body.slice(0, at);
  const afterAt = body.slice(at + 1);
  const slash = afterAt.indexOf("/");
  const hosts = slash < 0 ? afterAt : afterAt.slice(0, slash);
  const path = (slash < 0 ? "" : afterAt.slice(slash + 1)).split("/").filter((p) => p !== "");
  const nodes = hosts.split(",").map((hostPort) => {
    const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(hostPort.trim());
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw bad(`${JSON.stringify(hostPort)} in the ${scheme} URL is not host:port`);
    return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  });
  const colon = credentials.indexOf(":");
  const username = decodeURIComponent(colon < 0 ? credentials : credentials.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(credentials.slice(colon + 1));
  const auth = { ...(username === "" ? {} : { username }), ...(password === undefined ? {} : { password }) };
  if (scheme === "redis+sentinel") {
    const [masterName, db, ...extra] = path;
    if (masterName === undefined)
      throw bad("redis+sentinel:// needs the primary's name after the Sentinels (…/mymaster)");
    if (extra.length > 0 || (db !== undefined && !/^\d+$/.test(db)))
      throw bad(
        `after the master name, a redis+sentinel URL takes only a database number, got ${JSON.stringify(path.slice(1).join("/"))}`,
      );
    return {
      mode: "sentinel",
      nodes,
      masterName: decodeURIComponent(masterName),
      database: Number(db ?? 0),
      ...auth,
      wait,
      waitTimeoutMs,
    };
  }
  if (path.length > 1 || (path.length === 1 && path[0] !== "0"))
    throw bad("a Redis Cluster has only database 0: redis+cluster:// takes no path");
  return { mode: "cluster", nodes, database: 0, ...auth, wait, waitTimeoutMs };
}

const HERALD_PARAMS = ["wait", "wait-timeout"];

function herald(
  params: URLSearchParams,
  bad: (why: string) => RedisUrlError,
): { wait: number | "auto"; waitTimeoutMs: number } {
  for (const name of params.keys())
    if (!HERALD_PARAMS.includes(name))
      throw bad(`unknown parameter ${JSON.stringify(name)}: Herald takes wait and wait-timeout`);
  const waitText = params.get("wait") ?? "auto";
  let wait: number | "auto";
  if (waitText === "auto") wait = "auto";
  else if (/^\d{1,3}$/.test(waitText)) wait = Number(waitText);
  else throw bad(`wait=${waitText}: give the number of replicas a publish waits for (0, 1, ...) or auto`);
  const timeoutText = params.get("wait-timeout");
  let waitTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS;
  if (timeoutText !== null) {
    const m = /^(\d+)(ms|s)?$/.exec(timeoutText);
    if (m === null || Number(m[1]) < 1)
      throw bad(`wait-timeout=${timeoutText}: give a duration of at least 1ms, such as 500ms or 2s`);
    waitTimeoutMs = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  }
  return { wait, waitTimeoutMs };
}

/**
 * The text with any password replaced by `***`, for messages and logs: everything from the first
 * ":" after the user to the LAST "@", as the parser splits (so a raw "@" or "/" in it is hidden too).
 */
export function redact(text: string): string {
  return text.replace(/^([a-z+]+:\/\/[^:/@]*):.*@/, "$1:***@");
}

/** `host:port,...` of a target, for messages. */
export function whereOf(target: RedisTarget): string {
  const list = target.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  if (target.mode === "sentinel") return `the primary "${target.masterName}" of the Sentinels at ${list}`;
  if (target.mode === "cluster") return `the Redis Cluster at ${list}`;
  return list;
}
