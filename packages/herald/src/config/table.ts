import type { ValueOf } from "./kinds.ts";
import { AUTH } from "./sections/auth.ts";
import { LIMITS } from "./sections/limits.ts";
import { MERCURE } from "./sections/mercure.ts";
import { SERVER } from "./sections/server.ts";
import type { Setting, Settings } from "./setting.ts";

/**
 * Every setting of Herald, by its field name in the config, in the order of the docs. The one
 * definition: the config type below, the flags (flags.ts), the environment and the file (load.ts,
 * file.ts), docs/configuration.md and herald.example.yaml (docs.ts) all come from it.
 */
export const SETTINGS = { ...SERVER, ...AUTH, ...LIMITS, ...MERCURE };

/** The name of a setting's field in the config. */
export type SettingKey = keyof typeof SETTINGS;

/**
 * Herald's configuration: one field per setting, of its kind's type (e.g. `port: number`,
 * `corsOrigins: string[]`), inferred from the table. Handlers take a `Pick<HeraldConfig, ...>` of
 * the fields they use.
 */
export type HeraldConfig = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]["kind"]> };

/**
 * The same table, seen key by key: the setting of key K parses to `HeraldConfig[K]`. The compiler
 * checks this view against the table, so code generic in K (load.ts) keeps each value's type.
 */
export const SETTING_OF: { readonly [K in SettingKey]: Setting<HeraldConfig[K]> } = SETTINGS;

/** Whether `key` names a setting: narrows text (a loop over the table, a file's key) to a key. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** Every setting key, in table order. */
export const SETTING_KEYS: readonly SettingKey[] = Object.keys(SETTINGS).filter(isSettingKey);

/** The groups of the table, one table each in docs/configuration.md, with a line of Markdown about each. */
export const SECTIONS: readonly { title: string; about?: string; settings: Settings }[] = [
  { title: "Server", settings: SERVER },
  { title: "Authorization", about: "Explained in [auth.md](auth.md).", settings: AUTH },
  { title: "Limits", about: "Explained in [limits.md](limits.md).", settings: LIMITS },
  {
    title: "Mercure",
    about:
      "The `MERCURE_*` settings keep Mercure's names, for the Mercure protocol at `/.well-known/mercure`; explained in [mercure.md](mercure.md).",
    settings: MERCURE,
  },
];
