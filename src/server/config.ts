import { parseDuration, parseSize } from "./units.ts";

/**
 * Every setting of Herald: one table, read by the CLI (a flag each), the environment (HERALD_*),
 * and docs/configuration.md. A value that does not parse stops the start with a message naming the
 * setting and what it accepts.
 */
export interface HeraldConfig {
  port: number;
  host: string;
  bus: string;
  heartbeatMs: number;
  retryMs: number;
  historySize: number;
  historyMaxAgeMs: number;
  replayLimit: number;
  maxBodyBytes: number;
  maxBufferedBytes: number;
  maxTopics: number;
  maxTopicLength: number;
  corsOrigins: string[];
  broadcastTopic: string;
  shutdownTimeoutMs: number;
  logLevel: string;
  // Mercure protocol (docs/mercure.md): Mercure's names, MERCURE_* variables.
  mercureJwtKey: string;
  mercureJwtAlg: string;
  mercurePublisherJwtKey: string;
  mercurePublisherJwtAlg: string;
  mercureSubscriberJwtKey: string;
  mercureSubscriberJwtAlg: string;
  mercureAnonymous: boolean;
  mercureSubscriptions: boolean;
  mercureCorsOrigins: string[];
  mercurePublishOrigins: string[];
  mercureHeartbeatMs: number;
  mercureCookieName: string;
}

type Kind = "port" | "string" | "duration" | "size" | "count" | "list" | "level" | "bus" | "bool";

export interface SettingSpec {
  readonly key: keyof HeraldConfig;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly default: string;
  readonly help: string;
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: "port",
    flag: "port",
    env: "HERALD_PORT",
    kind: "port",
    default: "8080",
    help: "TCP port to listen on (0 = any free port)",
  },
  {
    key: "host",
    flag: "host",
    env: "HERALD_HOST",
    kind: "string",
    default: "",
    help: "address to listen on; empty = every interface",
  },
  {
    key: "bus",
    flag: "bus",
    env: "HERALD_BUS",
    kind: "bus",
    default: "memory",
    help: "event bus: memory (embedded, one process)",
  },
  {
    key: "heartbeatMs",
    flag: "heartbeat",
    env: "HERALD_HEARTBEAT",
    kind: "duration",
    default: "15s",
    help: "interval of heartbeat comments on idle streams (keeps proxies from cutting them)",
  },
  {
    key: "retryMs",
    flag: "retry",
    env: "HERALD_RETRY",
    kind: "duration",
    default: "3s",
    help: "reconnect delay hinted to clients with `retry:`",
  },
  {
    key: "historySize",
    flag: "history-size",
    env: "HERALD_HISTORY_SIZE",
    kind: "count",
    default: "10000",
    help: "most events held for Last-Event-ID replay",
  },
  {
    key: "historyMaxAgeMs",
    flag: "history-max-age",
    env: "HERALD_HISTORY_MAX_AGE",
    kind: "duration",
    default: "1h",
    help: "longest time an event is held for replay (0 = no age limit)",
  },
  {
    key: "replayLimit",
    flag: "replay-limit",
    env: "HERALD_REPLAY_LIMIT",
    kind: "count",
    default: "10000",
    help: "most events one reconnect may replay; further back gets the herald.missed event",
  },
  {
    key: "maxBodyBytes",
    flag: "max-body",
    env: "HERALD_MAX_BODY",
    kind: "size",
    default: "1MiB",
    help: "largest accepted request body (413 above it)",
  },
  {
    key: "maxBufferedBytes",
    flag: "max-buffered",
    env: "HERALD_MAX_BUFFERED",
    kind: "size",
    default: "1MiB",
    help: "outgoing bytes buffered for one subscriber before it is disconnected as too slow",
  },
  {
    key: "maxTopics",
    flag: "max-topics",
    env: "HERALD_MAX_TOPICS",
    kind: "count",
    default: "32",
    help: "most topics in one subscription or one event",
  },
  {
    key: "maxTopicLength",
    flag: "max-topic-length",
    env: "HERALD_MAX_TOPIC_LENGTH",
    kind: "count",
    default: "256",
    help: "longest topic, in characters",
  },
  {
    key: "corsOrigins",
    flag: "cors-origins",
    env: "HERALD_CORS_ORIGINS",
    kind: "list",
    default: "",
    help: "comma-separated origins allowed by CORS; * allows any; empty = none",
  },
  {
    key: "broadcastTopic",
    flag: "broadcast-topic",
    env: "HERALD_BROADCAST_TOPIC",
    kind: "string",
    default: "broadcast",
    help: "topic of the seed API: POST /broadcast publishes to it, GET /stream reads it",
  },
  {
    key: "shutdownTimeoutMs",
    flag: "shutdown-timeout",
    env: "HERALD_SHUTDOWN_TIMEOUT",
    kind: "duration",
    default: "5s",
    help: "longest wait for in-flight work on SIGTERM/SIGINT",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "HERALD_LOG_LEVEL",
    kind: "level",
    default: "info",
    help: "fatal, error, warn, info, debug, trace or silent",
  },
  {
    key: "mercureJwtKey",
    flag: "mercure-jwt-key",
    env: "MERCURE_JWT_KEY",
    kind: "string",
    default: "",
    help: "Mercure: key for publishers and subscribers alike (Mercure's jwt_key): an HMAC secret, or a PEM public key",
  },
  {
    key: "mercureJwtAlg",
    flag: "mercure-jwt-alg",
    env: "MERCURE_JWT_ALG",
    kind: "string",
    default: "HS256",
    help: "Mercure: algorithm of MERCURE_JWT_KEY: HS256, HS384, HS512, RS256, ES256, ES384 or ES512",
  },
  {
    key: "mercurePublisherJwtKey",
    flag: "mercure-publisher-jwt-key",
    env: "MERCURE_PUBLISHER_JWT_KEY",
    kind: "string",
    default: "",
    help: "Mercure: key that verifies publishers' tokens (default MERCURE_JWT_KEY; none = Mercure publishing off)",
  },
  {
    key: "mercurePublisherJwtAlg",
    flag: "mercure-publisher-jwt-alg",
    env: "MERCURE_PUBLISHER_JWT_ALG",
    kind: "string",
    default: "",
    help: "Mercure: algorithm of the publisher key (default MERCURE_JWT_ALG)",
  },
  {
    key: "mercureSubscriberJwtKey",
    flag: "mercure-subscriber-jwt-key",
    env: "MERCURE_SUBSCRIBER_JWT_KEY",
    kind: "string",
    default: "",
    help: "Mercure: key that verifies subscribers' tokens (default MERCURE_JWT_KEY; none = every subscriber is anonymous)",
  },
  {
    key: "mercureSubscriberJwtAlg",
    flag: "mercure-subscriber-jwt-alg",
    env: "MERCURE_SUBSCRIBER_JWT_ALG",
    kind: "string",
    default: "",
    help: "Mercure: algorithm of the subscriber key (default MERCURE_JWT_ALG)",
  },
  {
    key: "mercureAnonymous",
    flag: "mercure-anonymous",
    env: "MERCURE_ANONYMOUS",
    kind: "bool",
    default: "false",
    help: "Mercure: let subscribers without a token in (they receive public updates only)",
  },
  {
    key: "mercureSubscriptions",
    flag: "mercure-subscriptions",
    env: "MERCURE_SUBSCRIPTIONS",
    kind: "bool",
    default: "false",
    help: "Mercure: publish subscription events and serve the subscriptions API",
  },
  {
    key: "mercureCorsOrigins",
    flag: "mercure-cors-origins",
    env: "MERCURE_CORS_ORIGINS",
    kind: "list",
    default: "",
    help: "Mercure: CORS origins of /.well-known/mercure (Mercure's cors_origins); empty = HERALD_CORS_ORIGINS",
  },
  {
    key: "mercurePublishOrigins",
    flag: "mercure-publish-origins",
    env: "MERCURE_PUBLISH_ORIGINS",
    kind: "list",
    default: "",
    help: "Mercure: origins allowed to publish with the cookie (CSRF guard); * = any; empty = none",
  },
  {
    key: "mercureHeartbeatMs",
    flag: "mercure-heartbeat",
    env: "MERCURE_HEARTBEAT",
    kind: "duration",
    default: "40s",
    help: "Mercure: interval of heartbeat comments on Mercure streams",
  },
  {
    key: "mercureCookieName",
    flag: "mercure-cookie-name",
    env: "MERCURE_COOKIE_NAME",
    kind: "string",
    default: "mercureAuthorization",
    help: "Mercure: name of the cookie that carries the token",
  },
];

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const ACCEPTS: Record<Kind, string> = {
  port: "a whole number from 0 to 65535",
  string: "any text",
  duration: 'a duration such as "500ms", "15s", "2m", "1h" (a bare number is milliseconds)',
  size: 'a size such as "1MiB", "256KiB", "64kb" (a bare number is bytes)',
  count: "a whole number of 1 or more",
  list: "a comma-separated list",
  level: LEVELS.join(", "),
  bus: '"memory"',
  bool: "true or false (also 1/0, yes/no, on/off)",
};

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function parseValue(spec: SettingSpec, raw: string): unknown {
  const text = raw.trim();
  const bad = () =>
    new ConfigError(
      `invalid ${spec.env} / --${spec.flag}: ${JSON.stringify(raw)}; it accepts ${ACCEPTS[spec.kind]}`,
    );
  switch (spec.kind) {
    case "port": {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n > 65535) throw bad();
      return n;
    }
    case "count": {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || !Number.isSafeInteger(n)) throw bad();
      return n;
    }
    case "duration": {
      const n = parseDuration(text);
      if (n === undefined) throw bad();
      return n;
    }
    case "size": {
      const n = parseSize(text);
      if (n === undefined || n < 1) throw bad();
      return n;
    }
    case "list":
      return text === ""
        ? []
        : text
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "");
    case "level":
      if (!LEVELS.includes(text)) throw bad();
      return text;
    case "bus":
      if (text !== "memory") throw bad();
      return text;
    case "string":
      return text;
    case "bool": {
      const value = text.toLowerCase();
      if (["true", "1", "yes", "on"].includes(value)) return true;
      if (["false", "0", "no", "off", ""].includes(value)) return false;
      throw bad();
    }
  }
}

/**
 * Builds the config: flags win over environment variables, which win over defaults.
 * `flags` holds raw flag values by setting key; `env` is usually process.env.
 */
export function loadConfig(
  flags: Partial<Record<keyof HeraldConfig, string>>,
  env: Record<string, string | undefined>,
): HeraldConfig {
  const config: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const raw = flags[spec.key] ?? env[spec.env] ?? spec.default;
    config[spec.key] = parseValue(spec, raw);
  }
  const result = config as unknown as HeraldConfig;
  if ((result.heartbeatMs as number) < 1)
    throw new ConfigError("invalid HERALD_HEARTBEAT / --heartbeat: must be at least 1ms");
  if (result.mercureHeartbeatMs < 1)
    throw new ConfigError("invalid MERCURE_HEARTBEAT / --mercure-heartbeat: must be at least 1ms");
  return result;
}

/** A config from defaults plus overrides: for tests and embedding. */
export function configWith(overrides: Partial<HeraldConfig>): HeraldConfig {
  return { ...loadConfig({}, {}), ...overrides };
}
