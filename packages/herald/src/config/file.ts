import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./errors.ts";
import type { RawSettings } from "./load.ts";
import { describeValue, parseSetting, settingText } from "./parse.ts";
import { SETTING_KEYS, SETTING_OF, type SettingKey } from "./table.ts";

/**
 * Reads a config file (`herald --config herald.yaml`). A `.json` file (any case) is parsed as JSON,
 * strictly (a trailing comma is an error); any other file (`.yaml`, `.yml`, or another extension)
 * as YAML, which holds JSON too. It is a
 * mapping of settings keyed by the flags' names (`port: 8080`, `history-size: 1000`); each value
 * is what the flag takes, or a YAML number, boolean, or list (for lists). Every value is checked,
 * even one a flag or an environment variable will override: a bad file never starts.
 *
 * Returns the values as text, by field name, for `loadConfig`. Throws a ConfigError that names the
 * file, the key and what the key accepts, for a file that cannot be read, that is not YAML or
 * JSON, that is not a mapping, or that has an unknown key or a bad value.
 */
export function readConfigFile(path: string): RawSettings {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read ${where}: ${messageOf(error)}; check the path given to --config (or HERALD_CONFIG)`,
      { cause: error },
    );
  }
  const content = extname(path).toLowerCase() === ".json" ? parseJson(text, where) : parseYaml(text, where);
  if (content === null || content === undefined) return {}; // empty, or comments only: all defaults
  if (typeof content !== "object" || Array.isArray(content)) {
    throw new ConfigError(
      `${where} must hold a mapping of settings keyed by the flags' names, such as "port: 8080"; it holds ${describeValue(content)}`,
    );
  }
  const byFlag = new Map(SETTING_KEYS.map((key) => [SETTING_OF[key].flag, key]));
  const values: RawSettings = {};
  for (const [name, value] of Object.entries(content)) {
    const key = byFlag.get(name);
    if (key === undefined)
      throw new ConfigError(`unknown key ${JSON.stringify(name)} in ${where}: ${suggest(name)}`);
    values[key] = fileValue(key, value, `${JSON.stringify(name)} in ${where}`);
  }
  return values;
}

function parseJson(text: string, where: string): unknown {
  if (text.trim() === "") return undefined; // empty, as an empty YAML file: all defaults
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${where} is not valid JSON at ${lineColumn(text, jsonErrorOffset(text))}: ${messageOf(error)}; fix it (no trailing comma, keys in double quotes), or write YAML in a .yaml file`,
      { cause: error },
    );
  }
}

/**
 * Where JSON.parse fails on `text`. V8 names a position for most errors but not for an unexpected
 * token ("Unexpected token 'p', ... is not valid JSON"): then it is the length of the longest prefix
 * of `text` that is a valid beginning of JSON (found by bisection, as prefixes of one are ones too).
 */
function jsonErrorOffset(text: string): number {
  const failure = (prefix: string): { position: number | undefined } | undefined => {
    try {
      JSON.parse(prefix);
      return undefined;
    } catch (error) {
      const message = messageOf(error);
      if (/^Unexpected end of JSON input/.test(message)) return undefined;
      const position = /at position (\d+)/.exec(message)?.[1];
      return { position: position === undefined ? undefined : Number(position) };
    }
  };
  const whole = failure(text)?.position;
  if (whole !== undefined) return whole;
  const fine = (length: number): boolean => {
    const found = failure(text.slice(0, length));
    return found === undefined || (found.position !== undefined && found.position >= length);
  };
  let [lo, hi] = [0, text.length]; // fine(lo); not fine(hi), or hi is the whole text
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fine(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** "line L, column C" (both from 1) of a character offset in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function parseYaml(text: string, where: string): unknown {
  try {
    const doc = parseDocument(text);
    const [error] = doc.errors;
    if (error !== undefined) throw error;
    return doc.toJS();
  } catch (error) {
    throw new ConfigError(`${where} is not valid YAML or JSON: ${messageOf(error).trimEnd()}`, {
      cause: error,
    });
  }
}

/** The text of one file value, checked as the setting's flag would be. */
function fileValue(key: SettingKey, value: unknown, source: string): string {
  const { kind } = SETTING_OF[key];
  const raw = settingText(value, kind);
  if (raw === undefined)
    throw new ConfigError(`invalid ${source}: ${describeValue(value)}; it accepts ${kind.accepts}`);
  parseSetting(key, raw, source);
  return raw;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** What to write instead of an unknown key: the setting it most likely means, and where keys are listed. */
function suggest(name: string): string {
  const listed = `keys are the flags' names without "--" (herald --help, docs/configuration.md)`;
  const wanted = squash(name);
  let best: { flag: string; distance: number } | undefined;
  for (const key of SETTING_KEYS) {
    const { flag, env } = SETTING_OF[key];
    const aliases = [key, env, env.replace(/^HERALD_/, "")].map(squash);
    const d = aliases.includes(wanted) ? 0 : distance(squash(flag), wanted);
    if (d <= 2 && (best === undefined || d < best.distance)) best = { flag, distance: d };
  }
  return best === undefined ? listed : `did you mean "${best.flag}"? (${listed})`;
}

const squash = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
