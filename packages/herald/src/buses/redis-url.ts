/**
 * The Redis forms of `--bus` (docs/buses.md), parsed and checked without I/O:
 *
 * - `redis://[user:pass@]host:port[/db]`: one Redis server;
 * - `redis+sentinel://[user:pass@]host:port,host:port/<master name>[/db]`: the primary that the
 *   Sentinels at those addresses name (followed across failovers);
 * - `redis+cluster://[user:pass@]host:port,host:port`: a Redis Cluster (any of its nodes; the log's
 *   keys share one hash slot).
 * `rediss`, `rediss+sentinel`, `rediss+cluster`: the same over TLS (every connection: Redis nodes
 * and Sentinels), the server's certificate checked against Node's CAs or the `tls-ca` file.
 *
 * Each takes Herald's own query parameters: `wait` (replicas that must hold a publish before it is
 * answered 2xx: a whole number, or `auto`, the default: 1 once the primary was seen with a replica,
 * else 0), `wait-timeout` (how long a publish waits for them: `500ms`, `2s`; default 2s), `tls-ca`
 * (TLS forms only: a PEM file of the CA(s) to trust instead of Node's; read when the bus starts),
 * and on the Sentinel forms `sentinel-username` / `sentinel-password` (the Sentinels' own
 * credentials: `requirepass`, or an ACL user, in sentinel.conf; default none). The user and
 * password before `@` are those of the Redis nodes only. Values are percent-decoded (`+` is a plus).
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
  /** The Redis nodes' credentials (never the Sentinels'). */
  readonly username?: string;
  readonly password?: string;
  /** sentinel: the Sentinels' own credentials (`sentinel-username` / `sentinel-password`). */
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
  /** Set for the TLS forms (`rediss...`): every connection speaks TLS. */
  readonly tls?: { readonly caFile?: string };
  /** Replicas a publish waits for (`WAIT`); "auto": 1 once the primary was seen with a replica. */
  readonly wait: number | "auto";
  readonly waitTimeoutMs: number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 2000;

const FORMS =
  "redis://host:port/db, redis+sentinel://host:port,host:port/<master name>/db or redis+cluster://host:port,host:port (rediss... for TLS), with optional ?wait=<replicas|auto>&wait-timeout=<duration>, &tls-ca=<PEM file> on rediss..., &sentinel-username=<user>&sentinel-password=<password> on redis+sentinel";

export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

/** True for the values of `--bus` that name a Redis (any form). */
export function isRedisUrl(text: string): boolean {
  return /^rediss?(\+sentinel|\+cluster)?:\/\//.test(text);
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
  const params = queryParams(query < 0 ? "" : rest.slice(query + 1), bad);
  const { wait, waitTimeoutMs } = herald(params, bad);
  const body = query < 0 ? rest : rest.slice(0, query);
  const secure = scheme.startsWith("rediss");
  const caFile = params.get("tls-ca");
  if (caFile !== undefined && !secure)
    throw bad(`tls-ca is for TLS: use ${scheme.replace("redis", "rediss")}:// to connect over TLS`);
  if (caFile === "") throw bad("tls-ca= is empty: give the path of a PEM file of the CA(s) to trust");
  const tls = secure ? { tls: caFile === undefined ? {} : { caFile } } : {};
  const sentinelUsername = params.get("sentinel-username");
  const sentinelPassword = params.get("sentinel-password");
  const sentinelAuth = {
    ...(sentinelUsername === undefined ? {} : { sentinelUsername }),
    ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
  };
  if (!scheme.endsWith("+sentinel") && Object.keys(sentinelAuth).length > 0)
    throw bad(
      "sentinel-username and sentinel-password are the Sentinels' credentials: only a redis+sentinel:// URL takes them (a Redis node's user and password go before @)",
    );
  if (sentinelUsername !== undefined && sentinelPassword === undefined)
    throw bad("sentinel-username needs sentinel-password (the Sentinels' ACL user and its password)");
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
      ...tls,
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
  if (scheme.endsWith("+sentinel")) {
    const [masterName, db, ...extra] = path;
    if (masterName === undefined)
      throw bad(`${scheme}:// needs the primary's name after the Sentinels (…/mymaster)`);
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
      ...sentinelAuth,
      ...tls,
      wait,
      waitTimeoutMs,
    };
  }
  if (path.length > 1 || (path.length === 1 && path[0] !== "0"))
    throw bad(`a Redis Cluster has only database 0: ${scheme}:// takes no path`);
  return { mode: "cluster", nodes, database: 0, ...auth, ...tls, wait, waitTimeoutMs };
}

const HERALD_PARAMS = ["wait", "wait-timeout", "tls-ca", "sentinel-username", "sentinel-password"];

/**
 * `name=value&...`, each part percent-decoded (`+` stays a plus, as in a password); a name given
 * twice, or one Herald does not take, is refused.
 */
function queryParams(query: string, bad: (why: string) => RedisUrlError): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let name: string;
    let value: string;
    // a name is echoed only when it looks like one: a raw "?" in a password would make the rest
    // of the password a "name"
    const shown = (raw: string) =>
      /^[a-z][a-z-]{0,30}$/i.test(raw)
        ? JSON.stringify(raw)
        : '(not shown: a raw "?" or "&" in a password? percent-encode it: %3F, %26)';
    try {
      name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      value = decodeURIComponent(eq < 0 ? "" : part.slice(eq + 1));
    } catch {
      throw bad(`the query parameter ${shown(part.slice(0, eq))} is not percent-encoded properly`);
    }
    if (!HERALD_PARAMS.includes(name))
      throw bad(`unknown parameter ${shown(name)}: Herald takes ${HERALD_PARAMS.join(", ")}`);
    if (params.has(name)) throw bad(`${name} is given twice`);
    params.set(name, value);
  }
  return params;
}

function herald(
  params: ReadonlyMap<string, string>,
  bad: (why: string) => RedisUrlError,
): { wait: number | "auto"; waitTimeoutMs: number } {
  const waitText = params.get("wait") ?? "auto";
  let wait: number | "auto";
  if (waitText === "auto") wait = "auto";
  else if (/^\d{1,3}$/.test(waitText)) wait = Number(waitText);
  else throw bad(`wait=${waitText}: give the number of replicas a publish waits for (0, 1, ...) or auto`);
  const timeoutText = params.get("wait-timeout");
  let waitTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS;
  if (timeoutText !== undefined) {
    const m = /^(\d+)(ms|s)?$/.exec(timeoutText);
    if (m === null || Number(m[1]) < 1)
      throw bad(`wait-timeout=${timeoutText}: give a duration of at least 1ms, such as 500ms or 2s`);
    waitTimeoutMs = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  }
  return { wait, waitTimeoutMs };
}

/**
 * The text with any password replaced by `***`, for messages and logs: everything from the first
 * ":" after the user to the LAST "@", as the parser splits (so a raw "@" or "/" in it is hidden
 * too), and the value of `sentinel-password=` (up to the next "&").
 */
export function redact(text: string): string {
  // the query first: a raw "@" in the Sentinels' password must not end the user's part
  return text
    .replace(/([?&]sentinel-password=)[^&]*/gi, "$1***")
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):.*@/i, "$1:***@");
}

/** `host:port,...` of a target, for messages. */
export function whereOf(target: RedisTarget): string {
  const list = target.nodes.map((n) => `${n.host}:${n.port}`).join(",");
  if (target.mode === "sentinel") return `the primary "${target.masterName}" of the Sentinels at ${list}`;
  // never a password: only addresses and the master's name
  if (target.mode === "cluster") return `the Redis Cluster at ${list}`;
  return list;
}
