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
      "| flag | environment | default | kind | meaning |",
      "|---|---|---|---|---|",
      ...Object.values(section.settings).map(row),
      "",
    );
  }
  parts.push(
    "### Values",
    "",
    "What each kind of value accepts, in a flag or an environment variable:",
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
