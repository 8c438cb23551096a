/**
 * A setting, a config file, or a combination of settings Herald cannot start with. The message
 * names the setting (its environment variable and flag, or the file and key) and what it accepts.
 * The CLI prints it and exits 1; nothing has started yet.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
