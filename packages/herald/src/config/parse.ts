import { ConfigError } from "./errors.ts";
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
