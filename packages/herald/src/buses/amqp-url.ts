/**
 * The RabbitMQ forms of `--bus` (docs/buses.md), parsed and checked without I/O:
 *
 * - `amqp://user:pass@host:port/vhost` (or `amqps://`): one RabbitMQ node; without `user:pass@`,
 *   Herald logs in as RabbitMQ's default `guest`/`guest` (the AMQP URI spec's defaults);
 * - `amqp://user:pass@host:port,host:port,host:port/vhost`: the nodes of a RabbitMQ cluster. Herald
 *   connects to one, and to the next when it is lost; the stream is replicated on the cluster's
 *   nodes and the epoch is kept in a replicated queue too (rabbitmq.ts).
 */

export interface AmqpTarget {
  /** The URL of the first node (user, password, vhost and parameters included). */
  readonly url: string;
  /** `host:port` of every node, in the order given. */
  readonly hosts: readonly string[];
}

const FORM =
  "amqp://user:pass@host:port/vhost, or amqp://user:pass@host:port,host:port,host:port/vhost for a cluster";

export function isAmqpUrl(text: string): boolean {
  return /^amqps?:\/\//.test(text);
}

/** Parses a RabbitMQ `--bus` value; throws an Error saying what is wrong and what is accepted. */
export function parseAmqpUrl(text: string): AmqpTarget {
  const m = /^(amqps?):\/\/(?:([^@/]*)@)?([^/?#]*)(.*)$/.exec(text);
  if (m === null) throw new Error(`not a RabbitMQ URL; use ${FORM}`);
  const [, scheme, credentials, hostList, rest] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const hosts = hostList.split(",").map((h) => h.trim());
  for (const host of hosts) {
    if (!/^(\[[^\]]+\]|[^:[\]]+)(:\d{1,5})?$/.test(host))
      throw new Error(`${JSON.stringify(host)} in the RabbitMQ URL is not host or host:port; use ${FORM}`);
  }
  const url = `${scheme}://${withDefaults(credentials)}@${hosts[0]}${rest}`;
  try {
    new URL(url);
  } catch {
    throw new Error(`the RabbitMQ URL is not valid; use ${FORM}`);
  }
  const port = scheme === "amqps" ? "5671" : "5672";
  return { url, hosts: hosts.map((h) => (/:\d+$/.test(h) ? h : `${h}:${port}`)) };
}

/**
 * The AMQP URI spec's defaults (RabbitMQ's `guest`/`guest`): a URL without user logs in as
 * `guest:guest`, a user without password gets `guest` as password. The client (rabbitmq-client)
 * would otherwise send an empty user and fail to log in.
 */
function withDefaults(credentials: string | undefined): string {
  if (credentials === undefined) return "guest:guest";
  return credentials.includes(":") ? credentials : `${credentials}:guest`;
}

/** What is wrong with `text` as a RabbitMQ `--bus` value; undefined when it is fine or not a RabbitMQ URL. */
export function amqpUrlProblem(text: string): string | undefined {
  if (!isAmqpUrl(text)) return undefined;
  try {
    parseAmqpUrl(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
