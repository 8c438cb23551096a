/**
 * Parsing of human-friendly setting values. Each parser returns undefined for text it does not
 * accept; the config layer turns that into an error naming the setting.
 */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "15s", "500ms", "2m", "1h"; a bare number is milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  return Math.round(Number(match[1]) * (DURATION_MS[match[2] ?? "ms"] ?? 1));
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1_000_000,
  mib: 1024 ** 2,
  gb: 1_000_000_000,
  gib: 1024 ** 3,
};

/** "1MiB", "256KiB", "64kb"; a bare number is bytes. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (match === null) return undefined;
  return Math.round(Number(match[1]) * (SIZE_BYTES[(match[2] ?? "b").toLowerCase()] ?? 1));
}
