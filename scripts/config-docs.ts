// Prints the settings table of docs/configuration.md from the settings table (packages/herald/src/config/table.ts).
// Usage: node --import tsx scripts/config-docs.ts
import { SETTINGS } from "../packages/herald/src/config/settings.ts";

const rows = Object.values(SETTINGS).map(
  (s) => `| \`--${s.flag}\` | \`${s.env}\` | \`${s.default === "" ? '""' : s.default}\` | ${s.help} |`,
);
process.stdout.write(
  ["| flag | environment | default | meaning |", "|---|---|---|---|", ...rows, ""].join("\n"),
);
