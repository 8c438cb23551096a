import { availableParallelism } from "node:os";
import { isRedisUrl } from "../buses/redis-url.ts";
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

export const duration: Kind<number> = {
  name: "duration",
  accepts: 'a duration such as "500ms", "15s", "2m", "1h" (a bare number is milliseconds)',
  parse: parseDuration,
};

export const size: Kind<number> = {
  name: "size",
  accepts: 'a size such as "1MiB", "256KiB", "64kb" (a bare number is bytes)',
  parse: (value) => {
    const n = parseSize(value);
    return n !== undefined && n >= 1 ? n : undefined;
  },
};

export const list: Kind<string[]> = {
  name: "list",
  accepts: "a comma-separated list (in a config file, a YAML list too)",
  parse: (value) =>
    value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  list: true,
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

const BUS_PROTOCOLS = ["redis:", "rediss:", "amqp:", "amqps:"];
export const bus: Kind<string> = {
  name: "bus",
  accepts:
    '"memory", a Redis URL (redis://host:6379/0, redis+sentinel://h1:26379,h2:26379/mymaster/0, redis+cluster://h1:7000,h2:7001) or a RabbitMQ URL (amqp://user:pass@host:5672/vhost)',
  parse: (value) => {
    if (value === "memory" || isRedisUrl(value)) return value; // Redis forms: checked in full by rules.ts
    try {
      return BUS_PROTOCOLS.includes(new URL(value).protocol) ? value : undefined;
    } catch {
      return undefined;
    }
  },
};

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
  parse: (value) => (value === "" || /^https?:\/\/[^\s]+$/.test(value) ? value : undefined),
};

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
  size,
  duration,
  bool,
  text,
  list,
  url,
  bus,
  level,
  logFormat,
  sameSite,
  workers,
  mercureCompat,
];
