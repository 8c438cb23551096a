import { stringify } from "yaml";
import { KINDS } from "./kinds.ts";
import type { Setting } from "./setting.ts";
import { SECTIONS } from "./table.ts";

/**
 * The settings table as Markdown, for docs/configuration.md (scripts/config-docs.ts adds the
 * prose around it): a table per section, then what each kind of value accepts.
 */
export function settingsMarkdown(): string {
  const parts: string[] = [];
  for (const section of SECTIONS) {
    parts.push(`### ${section.title}`, "");
    if (section.about !== undefined) parts.push(section.about, "");
    parts.push(
      "| flag and file key | environment | default | kind | meaning |",
      "|---|---|---|---|---|",
      ...Object.values(section.settings).map(row),
      "",
    );
  }
  parts.push(
    "### Values",
    "",
    "What each kind of value accepts, in a flag, an environment variable or the config file:",
    "",
    "| kind | accepts |",
    "|---|---|",
    ...KINDS.map((kind) => `| ${kind.name} | ${cell(kind.accepts)} |`),
    "",
  );
  return parts.join("\n");
}

function row(setting: Setting<unknown>): string {
  const value = setting.default === "" ? '""' : setting.default;
  return `| \`--${setting.flag}\` | \`${setting.env}\` | \`${value}\` | ${setting.kind.name} | ${cell(setting.help)} |`;
}

const cell = (text: string): string => text.replaceAll("|", "\\|");

/**
 * herald.example.yaml: every setting with its default and its help, keyed by the flags' names,
 * section by section. Read as a config file, it gives the defaults (a test checks it).
 */
export function exampleYaml(): string {
  const lines = [
    "# Herald's config file: `herald --config herald.yaml` (YAML, or JSON).",
    "# Every setting with its default, keyed by the flags' names. A flag wins over an environment",
    "# variable, which wins over this file, which wins over the default. Remove what you keep at its",
    "# default. docs/configuration.md explains each setting; this file is generated from the settings",
    "# table (npm run docs:config in Herald's repository).",
  ];
  for (const section of SECTIONS) {
    lines.push("", `# ${section.title} `.padEnd(100, "-"));
    for (const setting of Object.values(section.settings)) {
      lines.push(
        "",
        ...wrap(`${setting.help} (--${setting.flag}, ${setting.env}; ${setting.kind.name})`, 98).map(
          (l) => `# ${l}`,
        ),
        stringify({ [setting.flag]: yamlDefault(setting) }).trimEnd(),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The default as YAML would write it: numbers, booleans and lists as such; other text as text. */
function yamlDefault(setting: Setting<unknown>): unknown {
  const value = setting.kind.parse(setting.default);
  if (typeof value === "boolean" || Array.isArray(value)) return value;
  return /^\d+$/.test(setting.default) ? Number(setting.default) : setting.default;
}

/** Splits `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}
