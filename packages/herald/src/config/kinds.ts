import { availableParallelism } from "node:os";
import { keyLike } from "../auth/key-text.ts";
import { amqpUrlProblem, isAmqpUrl } from "../buses/amqp-url.ts";
import { isRedisUrl, redisUrlProblem } from "../buses/redis-url.ts";
import { MERCURE_ALGORITHMS, mercureAlgorithm } from "../mercure/algorithms.ts";
import { WEBHOOK_EVENTS } from "../webhooks/events.ts";
import { parseDuration, parseSize } from "./units.ts";

/**
 * A kind of setting value: how its text (a flag, an environment variable, a config file value, a
 * default) becomes the typed value in the config. The config's field types are inferred from the
 * kinds (table.ts), so a kind's `parse` return type is the type of every setting of that kind.
 */
export interface Kind<T> {
  /** Short name, in the docs' "kind" column. */
  readonly name: string;
  /** What the setting accepts, in words: every error message about a bad value ends with it. */
  readonly accepts: string;
  /** The value of `text` (already trimmed), or undefined when the text does not fit. */
  parse(text: string): T | undefined;
  /** The value of the flag given alone (`--demo`); a flag of a kind without it needs a value. */
  readonly alone?: string;
  /** A config file may give a YAML/JSON list (joined with commas) as well as comma-separated text. */
  readonly list?: true;
  /**
   * Why `text`, which `parse` refused, is refused, when more can be said than "it accepts ...":
   * e.g. `15 is 15 ms, under the least of 100ms; give a unit, e.g. "15s"`. Undefined = no more.
   */
  readonly refusal?: (text: string) => string | undefined;
}

/** The type a kind's values have in the config. */
export type ValueOf<K> = K extends Kind<infer T> ? T : never;

const WHOLE = /^\d+$/;
const whole = (text: string, min: number, max: number): number | undefined => {
  const n = Number(text);
  return WHOLE.test(text) && n >= min && n <= max ? n : undefined;
};

export const port: Kind<number> = {
  name: "port",
  accepts: "a whole number from 0 to 65535",
  parse: (text) => whole(text, 0, 65535),
};

export const count: Kind<number> = {
  name: "count",
  accepts: "a whole number of 1 or more",
  parse: (text) => whole(text, 1, Number.MAX_SAFE_INTEGER),
};

export const text: Kind<string> = { name: "text", accepts: "any text", parse: (value) => value };

/**
 * HERALD_JWT_SECRET: an HS256 shared secret, or nothing. Key material (a PEM block, a JWK, base64
 * DER, an OpenSSH line, a URL) is refused: a public key taken as a secret would let anyone sign
 * accepted tokens (key confusion). A refusal says what the text is, never the text.
 */
export const hmacSecret: Kind<string> = {
  name: "HS256 secret",
  accepts:
    "a shared secret (any text; 32 characters or more), or nothing; never key material (a PEM block, a JWK, a public key in base64 DER, an OpenSSH key, a URL)",
  parse: (value) => (keyLike(value) === undefined ? value : undefined),
  refusal: (value) => {
    const what = keyLike(value);
    return what === undefined
      ? undefined
      : `the value is ${what}, but it takes an HS256 shared secret: a public key is no secret (anyone could sign tokens with it). Give a public key in HERALD_JWT_PUBLIC_KEY (PEM) or a key set in HERALD_JWKS_URL instead, or a random secret of 32 characters or more`;
  },
};

/**
 * Durations in general, for the docs' list of kinds. Each duration setting has a kind of its own
 * (`duration(least)`), with the least it takes: a few milliseconds are never meant for an
 * interval or a timeout, and a bare number is milliseconds, so `heartbeat: 15` (15 ms: a comment
 * every 15 ms to every stream) is refused with a hint to give a unit rather than taken.
 */
export const durations: Kind<number> = {
  name: "duration",
  accepts:
    'a duration such as "500ms", "15s", "2m", "1h"; a bare number is milliseconds. Each setting has a least (its kind says it, e.g. "duration, at least 100ms"): a value under it is refused, a bare one with a hint to give a unit (`heartbeat: 15` is 15 ms, not 15 s)',
  parse: parseDuration,
};

/** "100ms", "1s", "1m": a least as a duration. */
const formatMs = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

/**
 * A duration of at least `leastMs`, or 0 too when `zero` (the setting's help says what 0 means:
 * no limit, no wait). One under the least is refused, a bare number with a hint to give a unit.
 */
export function duration(leastMs: number, zero: "zero" | "" = ""): Kind<number> {
  const least = formatMs(leastMs);
  const allowsZero = zero === "zero";
  const fits = (ms: number | undefined): ms is number =>
    ms !== undefined && (ms >= leastMs || (allowsZero && ms === 0));
  return {
    name: allowsZero ? `duration, 0 or at least ${least}` : `duration, at least ${least}`,
    accepts: `a duration such as "500ms", "15s", "2m", "1h" of at least ${least}${allowsZero ? ", or 0" : ""} (a bare number is milliseconds)`,
    parse: (text) => {
      const ms = parseDuration(text);
      return fits(ms) ? ms : undefined;
    },
    refusal: (text) => {
      const ms = parseDuration(text);
      if (ms === undefined) return undefined;
      const fix = allowsZero ? `give at least ${least}, or 0` : `give at least ${least}`;
      if (ms > 0 && /^\d+(\.\d+)?$/.test(text)) {
        return `${text} is ${ms} ms, under the least of ${least}; give a unit, e.g. "${text}s" (a bare number is milliseconds; ${fix})`;
      }
      return `${/^[\d.]+$/.test(text) ? text : JSON.stringify(text)} is under the least of ${least}; ${fix}`;
    },
  };
}

/** Sizes in general, for the docs' list of kinds; each size setting has a kind of its own (`size(least)`). */
export const sizes: Kind<number> = {
  name: "size",
  accepts:
    'a size such as "1MiB", "256KiB", "64kb"; a bare number is bytes. Each setting has a least (its kind says it, e.g. "size, at least 1KiB"): a value under it is refused, a bare one with a hint to give a unit (`max-body: 1` is 1 byte, not 1 MiB)',
  parse: parseSize,
};

/** "1KiB", "64KiB", "1 byte": a least as a size. */
const formatBytes = (n: number): string =>
  n === 1
    ? "1 byte"
    : n % 1024 ** 2 === 0
      ? `${n / 1024 ** 2}MiB`
      : n % 1024 === 0
        ? `${n / 1024}KiB`
        : `${n} bytes`;

/**
 * A size of at least `leastBytes` (at least 1). One under the least is refused, a bare number
 * with a hint to give a unit: `max-body: 1` is 1 byte, most likely meant as 1 MiB.
 */
export function size(leastBytes: number): Kind<number> {
  const least = formatBytes(leastBytes);
  return {
    name: `size, at least ${least}`,
    accepts: `a size such as "1MiB", "256KiB", "64kb" of at least ${least} (a bare number is bytes)`,
    parse: (text) => {
      const n = parseSize(text);
      return n !== undefined && n >= Math.max(1, leastBytes) ? n : undefined;
    },
    refusal: (text) => {
      const n = parseSize(text);
      if (n === undefined) return undefined;
      if (n > 0 && /^\d+(\.\d+)?$/.test(text)) {
        return `${text} is ${n === 1 ? "1 byte" : `${n} bytes`}, under the least of ${least}; give a unit, e.g. "${text}MiB" (a bare number is bytes; give at least ${least})`;
      }
      return `${/^[\d.]+$/.test(text) ? text : JSON.stringify(text)} is under the least of ${least}; give at least ${least}`;
    },
  };
}

/** The items of comma-separated text, trimmed; no text is no item; undefined when an item is empty. */
function items(value: string): string[] | undefined {
  if (value === "") return [];
  const all = value.split(",").map((s) => s.trim());
  return all.includes("") ? undefined : all;
}

/** Why a list's text is refused when an item is empty (a doubled or trailing comma, an unset variable). */
function emptyItem(value: string): string | undefined {
  const at = value.split(",").findIndex((s) => s.trim() === "");
  if (value === "" || at === -1) return undefined;
  return `${JSON.stringify(value)} has an empty item (the ${ordinal(at + 1)}); remove the extra comma, or give the item`;
}

const ordinal = (n: number): string =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;

export const list: Kind<string[]> = {
  name: "list",
  accepts: "a comma-separated list, no item empty (in a config file, a YAML list too)",
  parse: items,
  list: true,
  refusal: emptyItem,
};

/**
 * A list (no item empty; in a config file, a YAML list too) whose every item `problem` finds
 * nothing wrong with. `problem` says what is wrong with one item and how to fix it; `accepts`
 * says what an item is.
 */
function listOf(
  name: string,
  accepts: string,
  problem: (item: string) => string | undefined,
): Kind<string[]> {
  return {
    name,
    accepts: `a comma-separated list (in a config file, a YAML list too) of ${accepts}`,
    parse: (value) => {
      const all = items(value);
      return all?.every((item) => problem(item) === undefined) ? all : undefined;
    },
    list: true,
    refusal: (value) => {
      const empty = emptyItem(value);
      if (empty !== undefined) return empty;
      for (const item of items(value) ?? []) {
        const why = problem(item);
        if (why !== undefined) return why;
      }
      return undefined;
    },
  };
}

/** Presence's topic selectors: those of `list`, but none under `$` (the hub's own topics). */
export const presenceSelectors = listOf(
  "presence selectors",
  "topic selectors (a topic, a prefix such as rooms/*, or *), none beginning with $",
  (item) =>
    item.startsWith("$")
      ? `${JSON.stringify(item)}: a selector may not begin with $ (topics under $presence/ are the hub's own)`
      : undefined,
);

export const webhookEvents = listOf("webhook events", `events among ${WEBHOOK_EVENTS.join(", ")}`, (item) =>
  (WEBHOOK_EVENTS as readonly string[]).includes(item)
    ? undefined
    : `unknown event ${JSON.stringify(item)}; choose among ${WEBHOOK_EVENTS.join(", ")}`,
);

/** An absolute http(s) URL with a host, as fetch will parse it (a user:password@ percent-encoded UTF-8). */
function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(value) && hasHost(value);
}

export const publicUrls = listOf(
  "public URLs",
  "absolute http:// or https:// URLs with a host, e.g. https://example.com (only the scheme and host count)",
  (item) =>
    isHttpUrl(item)
      ? undefined
      : `${JSON.stringify(withoutCredentials(item))} is not an absolute http(s) URL with a host; list the URLs the hub is reached at, e.g. https://example.com (only the scheme and host count)`,
);

export const issuerJwks = listOf(
  "issuer JWKS",
  "<issuer>=<JWKS URL> entries (the URL http:// or https://, with a host), e.g. https://idp.example.com=https://idp.example.com/jwks.json",
  (item) => {
    const at = item.indexOf("=");
    const issuer = item.slice(0, at).trim();
    const jwks = item.slice(at + 1).trim();
    if (at > 0 && issuer !== "" && isHttpUrl(jwks)) return undefined;
    const shown = at > 0 ? `${item.slice(0, at)}=${withoutCredentials(jwks)}` : withoutCredentials(item);
    return `${JSON.stringify(shown)} is not <issuer>=<JWKS URL> with an http:// or https:// URL with a host, e.g. https://idp.example.com=https://idp.example.com/jwks.json`;
  },
);

const ORIGIN = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\s]+)\/?$/i;

/**
 * An origin as browsers send it in `Origin` (lower case, no default port), or undefined when
 * `text` is not `scheme://host[:port]` (a trailing "/" allowed).
 */
function origin(text: string): string | undefined {
  const match = ORIGIN.exec(text);
  if (match === null) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  if (scheme !== "http" && scheme !== "https") return `${scheme}://${match[2]}`;
  try {
    const url = new URL(text);
    return url.origin === "null" ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

export const origins: Kind<string[]> = {
  name: "origins",
  accepts:
    "a comma-separated list (in a config file, a YAML list too) of origins, each * (any) or scheme://host[:port] with no path, e.g. https://app.example.com, http://localhost:4200",
  parse: (value) => {
    const all = items(value)?.map((item) => (item === "*" ? item : origin(item)));
    return all?.every((item) => item !== undefined) ? all : undefined;
  },
  list: true,
  refusal: (value) => {
    const empty = emptyItem(value);
    if (empty !== undefined) return empty;
    const bad = items(value)?.find((item) => item !== "*" && origin(item) === undefined);
    if (bad === undefined) return undefined;
    const why = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+[/?#]./i.test(bad)
      ? "an origin has no path, query or fragment; keep scheme://host[:port], e.g. https://app.example.com"
      : "write it as scheme://host[:port], e.g. https://app.example.com, or * for any origin";
    return `${JSON.stringify(bad)} is not an origin: ${why}`;
  },
};

/** A cookie name: an RFC 6265 token (letters, digits and !#$%&'*+-.^_`|~), not empty. */
export const cookieName: Kind<string> = {
  name: "cookie name",
  accepts: "a cookie name: letters, digits and !#$%&'*+-.^_`|~ (no space, no ; = , or quote), not empty",
  parse: (value) => (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value) ? value : undefined),
};

/** A topic of Herald's own (e.g. the seed API's): any text but empty. */
export const topic: Kind<string> = {
  name: "topic",
  accepts: "a topic: any text but empty",
  parse: (value) => (value === "" ? undefined : value),
};

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const LOG_FORMATS = ["auto", "json", "pretty"];
export const logFormat: Kind<string> = {
  name: "log format",
  accepts: LOG_FORMATS.join(", "),
  parse: (value) => (LOG_FORMATS.includes(value) ? value : undefined),
};

export const level: Kind<string> = {
  name: "log level",
  accepts: LEVELS.join(", "),
  parse: (value) => (LEVELS.includes(value) ? value : undefined),
};

export const bus: Kind<string> = {
  name: "bus",
  accepts:
    '"memory", a Redis URL (redis://host:6379/0, redis+sentinel://h1:26379,h2:26379/mymaster/0, redis+cluster://h1:7000,h2:7001) or a RabbitMQ URL (amqp://user:pass@host:5672/vhost)',
  parse: (text) => {
    if (text === "memory") return text;
    // a URL scheme is case-insensitive (RFC 3986): `Redis://` is `redis://`, checked and redacted as such
    const value = lowerScheme(text);
    // the broker forms in full: buses/redis-url.ts, buses/amqp-url.ts
    if (isRedisUrl(value) || isAmqpUrl(value)) return busProblem(value) === undefined ? value : undefined;
    return undefined;
  },
  refusal: (text) => busProblem(lowerScheme(text)),
};

/** `text` with its URL scheme (up to the first ":") in lower case. */
const lowerScheme = (text: string): string =>
  text.replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, (scheme) => scheme.toLowerCase());

/** What is wrong with a Redis or RabbitMQ URL, in the broker's words; undefined for any other text. */
const busProblem = (value: string): string | undefined => redisUrlProblem(value) ?? amqpUrlProblem(value);

export const bool: Kind<boolean> = {
  name: "boolean",
  accepts: "true or false",
  parse: (value) =>
    value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : undefined,
  alone: "true",
};

const SAME_SITE = ["Strict", "Lax", "None"];
export const sameSite: Kind<string> = {
  name: "SameSite",
  accepts: "Strict, Lax or None",
  parse: (value) => SAME_SITE.find((v) => v.toLowerCase() === value.toLowerCase()),
};

export const url: Kind<string> = {
  name: "URL",
  accepts: "an http:// or https:// URL, or nothing",
  parse: (value) => (value === "" || isHttpUrl(value) ? value : undefined),
  // never a password in a log line: the refusal shows the URL with its credentials hidden
  refusal: (value) =>
    `${JSON.stringify(withoutCredentials(value))} (credentials hidden) is not an http:// or https:// URL with a host; a user or password in it must be percent-encoded UTF-8`,
};

/** A URL the WHATWG parser takes (what fetch will parse) with a host: `http://[x` is none. */
function hasHost(value: string): boolean {
  try {
    const url = new URL(value);
    decodeURIComponent(url.username); // a user:password@ is sent as Basic auth: UTF-8 only
    decodeURIComponent(url.password);
    return url.hostname !== "";
  } catch {
    return false;
  }
}

/** `value` with what stands before an `@` of its authority (a user and password) hidden. */
function withoutCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@");
}

/**
 * The algorithm of a Mercure key (mercure/algorithms.ts), in any case; its value is the name as
 * listed (`hs512` is HS512). With `orNothing`, no text too: the setting then takes MERCURE_JWT_ALG's.
 */
function mercureAlg(orNothing: boolean): Kind<string> {
  const among = MERCURE_ALGORITHMS.join(", ");
  return {
    name: orNothing ? "JWT algorithm or nothing" : "JWT algorithm",
    accepts: `one of ${among} (in any case)${orNothing ? ", or nothing (MERCURE_JWT_ALG's)" : ""}`,
    parse: (value) => (orNothing && value === "" ? value : mercureAlgorithm(value)),
    refusal: (value) =>
      value.toLowerCase() === "none"
        ? `"${value}" (tokens without a signature) is never accepted; use one of ${among}`
        : undefined,
  };
}

export const jwtAlgorithm = mercureAlg(false);
export const jwtAlgorithmOrNothing = mercureAlg(true);

export const workers: Kind<number> = {
  name: "workers",
  accepts: '"auto" (one per CPU) or a whole number from 1 to 1024',
  parse: (value) => (value === "auto" ? availableParallelism() : whole(value, 1, 1024)),
};

export const mercureCompat: Kind<number> = {
  name: "mercure-compat",
  accepts: "0 (Mercure 1.0 only) or 8 (Mercure 0.x clients too)",
  parse: (text) => (text === "" || text === "0" ? 0 : text === "8" ? 8 : undefined),
};

/** Every kind, in the order the docs list them. */
export const KINDS: readonly Kind<unknown>[] = [
  port,
  count,
  sizes,
  durations,
  bool,
  text,
  hmacSecret,
  topic,
  cookieName,
  list,
  origins,
  url,
  publicUrls,
  issuerJwks,
  presenceSelectors,
  webhookEvents,
  bus,
  level,
  logFormat,
  sameSite,
  workers,
  jwtAlgorithm,
  jwtAlgorithmOrNothing,
  mercureCompat,
];
