import type { Kind } from "./kinds.ts";

/**
 * One setting of Herald: a flag, an environment variable, a key of the config file (the flag's
 * name), a default, and a line of help. Everything else is derived from the table of them
 * (table.ts): the config type, the CLI, the file, docs/configuration.md and herald.example.yaml.
 */
export interface Setting<T> {
  /** The flag's name without "--"; also the setting's key in a config file. */
  readonly flag: string;
  /** The environment variable (HERALD_*, or MERCURE_* for Mercure's own names). */
  readonly env: string;
  /** How its text becomes a value: the value's type in the config is the kind's. */
  readonly kind: Kind<T>;
  /** The default, as text: it is parsed like a flag's value. */
  readonly default: string;
  /** What it does, in one line (`herald --help`, the docs, the example file). */
  readonly help: string;
}

/** A group of settings, one table per group in the docs. */
export type Settings = Readonly<Record<string, Setting<unknown>>>;
