import { DEMO_TOPIC } from "../ops/demo.ts";
import { ConfigError } from "./errors.ts";
import { readConfigFile } from "./file.ts";
import { describeValue, flagAndEnv, parseSetting, settingText } from "./parse.ts";
import { checkRules } from "./rules.ts";
import { type HeraldConfig, SETTING_KEYS, SETTING_OF, type SettingKey } from "./table.ts";

/** Raw setting values by field name, as text: the flags given (flags.ts), or a config file's (file.ts). */
export type RawSettings = Partial<Record<SettingKey, string>>;

/**
 * Builds the config. Each setting comes from the first layer that has it: its flag, then its
 * environment variable, then the config file, then its default. Throws a ConfigError naming the
 * setting and what it accepts when a value does not parse, or when settings break a rule together.
 * `env` is usually process.env; `file` holds a config file's values, already checked (file.ts).
 */
export function loadConfig(
  flags: RawSettings,
  env: Readonly<Record<string, string | undefined>>,
  file: RawSettings = {},
): HeraldConfig {
  const config: Partial<HeraldConfig> = {};
  const take = <K extends SettingKey>(key: K): void => {
    config[key] = parseSetting(key, rawOf(key, flags, env, file), flagAndEnv(key));
  };
  for (const key of SETTING_KEYS) take(key);
  if (!isComplete(config)) throw new Error("a setting of the table was not loaded"); // cannot happen
  // the demo watches its own topic, so its page can show who is watching `prices`, unless presence
  // was set (to anything, empty included)
  if (config.demo && (flags.presence ?? env[SETTING_OF.presence.env] ?? file.presence) === undefined) {
    config.presence = [DEMO_TOPIC];
  }
  checkRules(config);
  return config;
}

/**
 * One setting as `loadConfig` would load it, or undefined when its value does not parse: for what
 * must be known of a config that was refused (the label of the fatal line that says why).
 */
export function loadSetting<K extends SettingKey>(
  key: K,
  flags: RawSettings,
  env: Readonly<Record<string, string | undefined>>,
  file: RawSettings = {},
): HeraldConfig[K] | undefined {
  try {
    return parseSetting(key, rawOf(key, flags, env, file), flagAndEnv(key));
  } catch {
    return undefined;
  }
}

/** A setting's text from the first layer that has it: flag, environment, file, default. */
function rawOf(
  key: SettingKey,
  flags: RawSettings,
  env: Readonly<Record<string, string | undefined>>,
  file: RawSettings,
): string {
  const setting = SETTING_OF[key];
  return flags[key] ?? env[setting.env] ?? file[key] ?? setting.default;
}

/** Where `configWith` reads settings besides its overrides. */
export interface ConfigSources {
  /** A config file's path (YAML or JSON, keyed by the flags' names), read as `herald --config` reads it. */
  readonly file?: string | undefined;
  /** Environment variables (`HERALD_*`, `MERCURE_*`), e.g. `process.env`; none by default. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * A config for embedding (src/index.ts): each setting from `overrides`, else `sources.env`, else
 * `sources.file`, else its default, as the command takes a flag over its variable over its file.
 * Every override is checked as the command checks its flag (a typed value's text: a bare number is
 * milliseconds for a duration, bytes for a size), then the rules between settings. Throws a
 * ConfigError naming the setting and what it accepts, an unknown setting, or the file's problem.
 */
export function configWith(overrides: Partial<HeraldConfig> = {}, sources: ConfigSources = {}): HeraldConfig {
  const flags: RawSettings = {};
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(SETTING_OF, name)) {
      throw new ConfigError(
        `unknown setting ${JSON.stringify(name)} given to configWith: the settings are the fields of HeraldConfig, each named after its flag in camelCase (--history-size: historySize; docs/configuration.md)`,
      );
    }
    flags[name as SettingKey] = overrideText(name as SettingKey, value);
  }
  const file = sources.file === undefined ? {} : readConfigFile(sources.file);
  return loadConfig(flags, sources.env ?? {}, file);
}

/** An override as the text its flag would take, checked (the ConfigError names `configWith({ key })`). */
function overrideText(key: SettingKey, value: unknown): string {
  const { kind } = SETTING_OF[key];
  const source = `configWith({ ${key} })`;
  const text = settingText(value, kind);
  if (text === undefined)
    throw new ConfigError(`invalid ${source}: ${describeValue(value)}; it accepts ${kind.accepts}`);
  parseSetting(key, text, source);
  return text;
}

/**
 * Defaults plus overrides as given, with no check: for tests and benches, which run timers shorter
 * than the command allows (a 20 ms retry). Embedders use `configWith`.
 */
export function defaultsWith(overrides: Partial<HeraldConfig>): HeraldConfig {
  return { ...loadConfig({}, {}), ...overrides };
}

function isComplete(config: Partial<HeraldConfig>): config is HeraldConfig {
  return SETTING_KEYS.every((key) => config[key] !== undefined);
}
