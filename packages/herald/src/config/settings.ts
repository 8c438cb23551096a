/**
 * The config of Herald, for the rest of the server: the settings table and its type (table.ts),
 * loading it from flags, environment, a config file and defaults (load.ts, file.ts), and its error.
 * docs/configuration.md lists every setting; it is generated from the table (`npm run docs:config`).
 */
export { ConfigError } from "./errors.ts";
export { readConfigFile } from "./file.ts";
export {
  type ConfigSources,
  configWith,
  defaultsWith,
  loadConfig,
  loadSetting,
  type RawSettings,
} from "./load.ts";
export { type HeraldConfig, SETTINGS, type SettingKey } from "./table.ts";
