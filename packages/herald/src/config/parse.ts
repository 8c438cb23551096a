import { ConfigError } from "./errors.ts";
import type { Kind } from "./kinds.ts";
import { type HeraldConfig, SETTING_OF, type SettingKey } from "./table.ts";

/**
 * The value of setting `key` from `raw` (trimmed first), of the setting's type. Throws a
 * ConfigError naming `source` (e.g. "HERALD_PORT / --port", or a key of a config file), the text,
 * and what the setting accepts.
 */
export function parseSetting<K extends SettingKey>(key: K, raw: string, source: string): HeraldConfig[K] {
  const { kind } = SETTING_OF[key];
  const value = kind.parse(raw.trim());
  if (value === undefined) {
    const refusal = kind.refusal?.(raw.trim());
    throw new ConfigError(
      refusal === undefined
        ? `invalid ${source}: ${JSON.stringify(raw)}; it accepts ${kind.accepts}`
        : `invalid ${source}: ${refusal}`,
    );
  }
  return value;
}

/** How errors name a setting given by flag or environment: "HERALD_PORT / --port". */
export function flagAndEnv(key: SettingKey): string {
  const { env, flag } = SETTING_OF[key];
  return `${env} / --${flag}`;
}

/**
 * The text of a typed setting value, as a flag would give it: a string or a boolean as written, a
 * finite number in decimal (a bare number is milliseconds for a duration, bytes for a size), a
 * list's items joined with commas. Undefined for anything else (an object, NaN, a nested list).
 * Config files (file.ts) and `configWith` (load.ts) check their values through it.
 */
export function settingText(value: unknown, kind: Kind<unknown>): string | undefined {
  if (typeof value === "string" || typeof value === "boolean") return String(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (kind.list === true && Array.isArray(value)) {
    const items = value.map((item) => (Array.isArray(item) ? undefined : settingText(item, kind)));
    return items.every((item) => item !== undefined) ? items.join(",") : undefined;
  }
  return undefined;
}

/** A value that is no setting's, as an error message shows it. */
export function describeValue(value: unknown): string {
  if (value === null) return "no value";
  if (typeof value === "number" && !Number.isFinite(value)) return `${value} (not a finite number)`;
  if (value instanceof Uint8Array) return "binary data (!!binary)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value) ?? String(value);
}
