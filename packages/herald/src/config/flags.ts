import type { Command } from "commander";
import type { RawSettings } from "./load.ts";
import { SETTING_KEYS, SETTING_OF } from "./table.ts";

/**
 * Adds a flag per setting to the `herald` command, and `--config <file>`. A flag whose kind has a
 * value of its own (`--demo`) may be given alone; the others need a value. The help of each names
 * its environment variable and its default.
 */
export function addSettingFlags(program: Command): void {
  program.option(
    "--config <file>",
    "a YAML or JSON file of settings keyed by the flags' names (e.g. `port: 8080`); flags and environment variables win over it [env HERALD_CONFIG]",
  );
  for (const key of SETTING_KEYS) {
    const { flag, env, kind, help } = SETTING_OF[key];
    program.option(
      kind.alone === undefined ? `--${flag} <value>` : `--${flag} [value]`,
      `${help} [env ${env}, default ${JSON.stringify(SETTING_OF[key].default)}]`,
    );
  }
}

/** What the command line and the environment ask for: the flags given, and the config file if any. */
export interface CommandLine {
  readonly flags: RawSettings;
  /** `--config`, else HERALD_CONFIG; undefined when neither is set. */
  readonly configFile: string | undefined;
}

/** Reads the flags given to `program` (after `parse()`) by field name, and the config file's path. */
export function readCommandLine(
  program: Command,
  env: Readonly<Record<string, string | undefined>>,
): CommandLine {
  const options = program.opts<Record<string, string | true | undefined>>();
  const flags: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const { flag, kind } = SETTING_OF[key];
    const value = options[camelCase(flag)];
    if (value !== undefined) flags[key] = value === true ? (kind.alone ?? "") : value;
  }
  const file = options.config;
  const configFile = typeof file === "string" ? file : env.HERALD_CONFIG || undefined;
  return { flags, configFile };
}

/** Commander's name for a flag's value: "history-size" -> "historySize". */
const camelCase = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
