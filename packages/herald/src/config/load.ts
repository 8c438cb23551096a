import { DEMO_TOPIC } from "../ops/demo.ts";
import { flagAndEnv, parseSetting } from "./parse.ts";
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

/**
 * A config from defaults plus overrides: for embedding (src/index.ts) and tests. The overrides are
 * typed values, taken as they are (their types are TypeScript's to check); the rules between
 * settings are checked as `loadConfig` checks them (a ConfigError names the settings).
 */
export function configWith(overrides: Partial<HeraldConfig>): HeraldConfig {
  const config = { ...loadConfig({}, {}), ...overrides };
  checkRules(config);
  return config;
}

function isComplete(config: Partial<HeraldConfig>): config is HeraldConfig {
  return SETTING_KEYS.every((key) => config[key] !== undefined);
}
