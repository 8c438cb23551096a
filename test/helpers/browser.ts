import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium, driven by playwright-core (never `playwright install`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, and nothing that phones home or needs a GPU or a large /dev/shm. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** The `skip` option of a browser suite: why it cannot run here, or false. */
export const browserSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium): browser tests skipped`;

/** Launches Chromium (gives up after 60 s, e.g. on a machine under load), with `extra` flags. */
export function launchChromium(extra: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...extra], timeout: 60_000 });
}
