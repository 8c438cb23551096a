import type { Command } from "commander";
import type { RawSettings } from "./load.ts";
import { SETTING_KEYS, SETTING_OF } from "./table.ts";

/**
 * Adds a flag per setting to the `herald` command. A flag whose kind has a
 * value of its own (`--demo`) may be given alone; the others need a value. The help of each names
 * its environment variable and its default.
 */
export function addSettingFlags(program: Command): void {
  for (const key of SETTING_KEYS) {
    const { flag, env, kind, help } = SETTING_OF[key];
    program.option(
      kind.alone === undefined ? `--${flag} <value>` : `--${flag} [value]`,
      `${help} [env ${env}, default ${JSON.stringify(SETTING_OF[key].default)}]`,
    );
  }
}

/** What the command line asks for: the flags given. */
export interface CommandLine {
  readonly flags: RawSettings;
}

/** Reads the flags given to `program` (after `parse()`) by field name. */
export function readCommandLine(program: Command): CommandLine {
  const options = program.opts<Record<string, string | true | undefined>>();
  const flags: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const { flag, kind } = SETTING_OF[key];
    const value = options[camelCase(flag)];
    if (value !== undefined) flags[key] = value === true ? (kind.alone ?? "") : value;
  }
  return { flags };
}

/** Commander's name for a flag's value: "history-size" -> "historySize". */
const camelCase = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
