import { availableParallelism } from "node:os";
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
  historyMaxBytes: number;
  historyMaxAgeMs: number;
  busRetention: number;
  replayLimit: number;
  maxBodyBytes: number;
  maxBufferedBytes: number;
  maxTopics: number;
  maxTopicLength: number;
  corsOrigins: string[];
  broadcastTopic: string;
  shutdownTimeoutMs: number;
  logLevel: string;
  // Authorization and limits (docs/auth.md, docs/limits.md)
  jwtSecret: string;
  jwtPublicKey: string;
  jwksUrl: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwtLeewayMs: number;
  jwksCacheMs: number;
  jwksCooldownMs: number;
  allowAnonymousPublish: boolean;
  allowAnonymousSubscribe: boolean;
  privateTopics: string[];
  authCookie: string;
  cookieSameSite: string;
  trustProxy: boolean;
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxEventBytes: number;
  publishRate: number;
  publishBurst: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  // The page, the demo feed, metrics (docs/metrics.md)
  demo: boolean;
  metricsTopics: string[];
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
  /** Mercure 1.0: the `iss` bound to the MERCURE_* keys. */
  mercureIssuer: string;
  /** Mercure 1.0: more trusted issuers, each with its JWKS: `<issuer>=<jwks url>` entries. */
  mercureJwks: string[];
  /** Mercure 1.0: the hub's resource identifier (token `aud`); empty = derived from each request. */
  mercureResourceIdentifier: string;
  /** 8 = Mercure 0.x clients too (compatibility mode); 0 = 1.0 only. */
  mercureProtocolCompatibility: number;
  /** Mercure URI templates of subscribers (docs/limits.md). */
  maxTemplateSize: number;
  maxTemplatesPerIp: number;
  templateCacheBytes: number;
  /** Processes serving HTTP (node:cluster); 1 = no cluster. Read by the CLI only. */
  workers: number;
}

type Kind =
  | "port"
  | "string"
  | "duration"
  | "size"
  | "count"
  | "list"
  | "level"
  | "bus"
  | "bool"
  | "samesite"
  | "url"
  | "workers"
  | "mercure-compat";

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
    help: "event bus: memory (one process), redis://host:port/db or amqp://user:pass@host:port/vhost (buses.md)",
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
    key: "historyMaxBytes",
    flag: "history-max-bytes",
    env: "HERALD_HISTORY_MAX_BYTES",
    kind: "size",
    default: "64MiB",
    help: "most bytes of events held for Last-Event-ID replay (data, ids, types, topics); the oldest go first",
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
    key: "busRetention",
    flag: "bus-retention",
    env: "HERALD_BUS_RETENTION",
    kind: "count",
    default: "100000",
    help: "Redis bus: most events the shared log keeps for lagging nodes (at least --history-size; buses.md)",
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
    key: "jwtSecret",
    flag: "jwt-secret",
    env: "HERALD_JWT_SECRET",
    kind: "string",
    default: "",
    help: "HS256 secret verifying tokens; with no key at all, a random one is made at start and a token printed",
  },
  {
    key: "jwtPublicKey",
    flag: "jwt-public-key",
    env: "HERALD_JWT_PUBLIC_KEY",
    kind: "string",
    default: "",
    help: "RSA (RS256) or EC (ES256) public key verifying tokens: PEM text or the path of a PEM file",
  },
  {
    key: "jwksUrl",
    flag: "jwks-url",
    env: "HERALD_JWKS_URL",
    kind: "url",
    default: "",
    help: "JWKS URL whose keys verify tokens (cached; an unknown kid fetches it again: key rotation)",
  },
  {
    key: "jwtIssuer",
    flag: "jwt-issuer",
    env: "HERALD_JWT_ISSUER",
    kind: "string",
    default: "",
    help: "required iss claim of tokens; empty = not checked",
  },
  {
    key: "jwtAudience",
    flag: "jwt-audience",
    env: "HERALD_JWT_AUDIENCE",
    kind: "string",
    default: "",
    help: "required aud claim of tokens; empty = not checked",
  },
  {
    key: "jwtLeewayMs",
    flag: "jwt-leeway",
    env: "HERALD_JWT_LEEWAY",
    kind: "duration",
    default: "0s",
    help: "clock skew tolerated on exp and nbf",
  },
  {
    key: "jwksCacheMs",
    flag: "jwks-cache",
    env: "HERALD_JWKS_CACHE",
    kind: "duration",
    default: "10m",
    help: "how long fetched JWKS keys are used before fetching the JWKS again",
  },
  {
    key: "jwksCooldownMs",
    flag: "jwks-cooldown",
    env: "HERALD_JWKS_COOLDOWN",
    kind: "duration",
    default: "30s",
    help: "shortest time between two JWKS fetches caused by unknown key ids",
  },
  {
    key: "allowAnonymousPublish",
    flag: "allow-anonymous-publish",
    env: "HERALD_ALLOW_ANONYMOUS_PUBLISH",
    kind: "bool",
    default: "false",
    help: "let requests without a token publish to any topic (UNSAFE outside development)",
  },
  {
    key: "allowAnonymousSubscribe",
    flag: "allow-anonymous-subscribe",
    env: "HERALD_ALLOW_ANONYMOUS_SUBSCRIBE",
    kind: "bool",
    default: "true",
    help: "let clients without a token receive public events (false = every stream needs a token)",
  },
  {
    key: "privateTopics",
    flag: "private-topics",
    env: "HERALD_PRIVATE_TOPICS",
    kind: "list",
    default: "",
    help: "comma-separated topic selectors whose events are always private (e.g. users/*,billing)",
  },
  {
    key: "authCookie",
    flag: "auth-cookie",
    env: "HERALD_AUTH_COOKIE",
    kind: "string",
    default: "heraldAuthorization",
    help: "name of the cookie holding a subscriber token (set by POST /auth/cookie or by your app)",
  },
  {
    key: "cookieSameSite",
    flag: "cookie-samesite",
    env: "HERALD_COOKIE_SAMESITE",
    kind: "samesite",
    default: "Strict",
    help: "SameSite attribute of the cookie POST /auth/cookie sets: Strict, Lax or None (None implies Secure)",
  },
  {
    key: "trustProxy",
    flag: "trust-proxy",
    env: "HERALD_TRUST_PROXY",
    kind: "bool",
    default: "false",
    help: "take the client IP from the last X-Forwarded-For entry (only behind a proxy that sets it)",
  },
  {
    key: "maxConnections",
    flag: "max-connections",
    env: "HERALD_MAX_CONNECTIONS",
    kind: "count",
    default: "10000",
    help: "most open event streams on this node (503 + Retry-After above it)",
  },
  {
    key: "maxConnectionsPerIp",
    flag: "max-connections-per-ip",
    env: "HERALD_MAX_CONNECTIONS_PER_IP",
    kind: "count",
    default: "100",
    help: "most open event streams from one client IP (429 + Retry-After above it)",
  },
  {
    key: "maxEventBytes",
    flag: "max-event-size",
    env: "HERALD_MAX_EVENT_SIZE",
    kind: "size",
    default: "256KiB",
    help: "largest event data, in UTF-8 bytes (413 above it)",
  },
  {
    key: "publishRate",
    flag: "publish-rate",
    env: "HERALD_PUBLISH_RATE",
    kind: "count",
    default: "10000",
    help: "publishes per second allowed per token (per IP when anonymous); 429 + Retry-After above it",
  },
  {
    key: "publishBurst",
    flag: "publish-burst",
    env: "HERALD_PUBLISH_BURST",
    kind: "count",
    default: "50000",
    help: "publishes allowed at once before the publish rate applies",
  },
  {
    key: "headersTimeoutMs",
    flag: "headers-timeout",
    env: "HERALD_HEADERS_TIMEOUT",
    kind: "duration",
    default: "10s",
    help: "longest time a client may take to send request headers (slow-loris cut-off, 408)",
  },
  {
    key: "requestTimeoutMs",
    flag: "request-timeout",
    env: "HERALD_REQUEST_TIMEOUT",
    kind: "duration",
    default: "30s",
    help: "longest time a client may take to send a whole request (headers and body)",
  },
  {
    key: "demo",
    flag: "demo",
    env: "HERALD_DEMO",
    kind: "bool",
    default: "false",
    help: "run the demo feed: a price tick every second on topic `prices` (`--demo` alone means true)",
  },
  {
    key: "metricsTopics",
    flag: "metrics-topics",
    env: "HERALD_METRICS_TOPICS",
    kind: "list",
    default: "",
    help: "comma-separated topics counted one by one in /metrics (label `topic`); empty = no per-topic label",
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
    help: "Mercure: key that verifies publishers' tokens (default MERCURE_JWT_KEY, else Herald's configured key; none = Mercure publishing off)",
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
    help: "Mercure: key that verifies subscribers' tokens (default MERCURE_JWT_KEY, else Herald's configured key; none = no subscriber tokens)",
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
    default: "__Secure-mercure_access_token",
    help: "Mercure: name of the cookie that carries the access token (with MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8, 0.x's mercureAuthorization is read too)",
  },
  {
    key: "mercureIssuer",
    flag: "mercure-issuer",
    env: "MERCURE_ISSUER",
    kind: "string",
    default: "",
    help: "Mercure 1.0: the issuer (iss) of the tokens that MERCURE_JWT_KEY / MERCURE_PUBLISHER_JWT_KEY / MERCURE_SUBSCRIBER_JWT_KEY verify; required with a MERCURE_* key unless MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8",
  },
  {
    key: "mercureJwks",
    flag: "mercure-jwks",
    env: "MERCURE_JWKS",
    kind: "list",
    default: "",
    help: "Mercure 1.0: more trusted issuers, comma-separated <issuer>=<JWKS URL> entries (each issuer's tokens are verified with its own JWKS only)",
  },
  {
    key: "mercureResourceIdentifier",
    flag: "mercure-resource-identifier",
    env: "MERCURE_RESOURCE_IDENTIFIER",
    kind: "string",
    default: "",
    help: "Mercure 1.0: the hub's resource identifier, the aud tokens must carry (e.g. https://example.com/.well-known/mercure); empty = <scheme>://<host>/.well-known/mercure of each request",
  },
  {
    key: "mercureProtocolCompatibility",
    flag: "mercure-protocol-version-compatibility",
    env: "MERCURE_PROTOCOL_VERSION_COMPATIBILITY",
    kind: "mercure-compat",
    default: "0",
    help: "Mercure: 8 = also serve Mercure 0.x clients (topic=, the mercure claim, the authorization query parameter, the mercureAuthorization cookie, the 0.x subscription format); weakens token checks; 0 = 1.0 only",
  },
  {
    key: "maxTemplateSize",
    flag: "max-template-size",
    env: "HERALD_MAX_TEMPLATE_SIZE",
    kind: "count",
    default: "256",
    help: "Mercure: largest URI template a subscriber may use, in states of its compiled matcher (a DFA: {id} needs ~5, {?a,b,c,d} ~100, {x:n} ~n; 400 above it)",
  },
  {
    key: "maxTemplatesPerIp",
    flag: "max-templates-per-ip",
    env: "HERALD_MAX_TEMPLATES_PER_IP",
    kind: "count",
    default: "32",
    help: "Mercure: most distinct URI templates the open streams of one client IP may use (429 above it)",
  },
  {
    key: "templateCacheBytes",
    flag: "template-cache",
    env: "HERALD_TEMPLATE_CACHE",
    kind: "size",
    default: "64MiB",
    help: "Mercure: memory for compiled URI templates; when templates in use fill it, a new template is refused (503)",
  },
  {
    key: "workers",
    flag: "workers",
    env: "HERALD_WORKERS",
    kind: "workers",
    default: "auto",
    help: "processes sharing the port (node:cluster); auto = one per CPU; 1 = a single process",
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
  bus: '"memory", a Redis URL (redis://host:6379/0) or a RabbitMQ URL (amqp://user:pass@host:5672/vhost)',
  bool: "true or false",
  samesite: "Strict, Lax or None",
  url: "an http:// or https:// URL, or nothing",
  workers: '"auto" (one per CPU) or a whole number of 1 or more',
  "mercure-compat": "0 (Mercure 1.0 only) or 8 (Mercure 0.x clients too)",
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
      if (text === "memory") return text;
      try {
        if (!["redis:", "rediss:", "amqp:", "amqps:"].includes(new URL(text).protocol)) throw bad();
      } catch {
        throw bad();
      }
      return text;
    case "string":
      return text;
    case "workers": {
      if (text === "auto") return availableParallelism();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > 1024) throw bad();
      return n;
    }
    case "mercure-compat":
      if (text === "" || text === "0") return 0;
      if (text === "8") return 8;
      throw bad();
    case "bool":
      if (text === "true" || text === "1") return true;
      if (text === "false" || text === "0") return false;
      throw bad();
    case "samesite": {
      const value = ["Strict", "Lax", "None"].find((v) => v.toLowerCase() === text.toLowerCase());
      if (value === undefined) throw bad();
      return value;
    }
    case "url":
      if (text !== "" && !/^https?:\/\/[^\s]+$/.test(text)) throw bad();
      return text;
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
  if (/^rediss?:/.test(result.bus) && result.busRetention < result.historySize) {
    throw new ConfigError(
      `invalid HERALD_BUS_RETENTION / --bus-retention: ${result.busRetention} is less than HERALD_HISTORY_SIZE / --history-size (${result.historySize}); the shared log must hold at least the history: raise --bus-retention`,
    );
  }
  if (result.mercureHeartbeatMs < 1)
    throw new ConfigError("invalid MERCURE_HEARTBEAT / --mercure-heartbeat: must be at least 1ms");
  const keys = [result.jwtSecret, result.jwtPublicKey, result.jwksUrl].filter((k) => k !== "").length;
  if (keys > 1) {
    throw new ConfigError(
      "set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL: tokens are verified with one key source",
    );
  }
  return result;
}

/** A config from defaults plus overrides: for tests and embedding. */
export function configWith(overrides: Partial<HeraldConfig>): HeraldConfig {
  return { ...loadConfig({}, {}), ...overrides };
}
