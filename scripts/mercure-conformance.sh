#!/usr/bin/env bash
# Runs the Mercure project's conformance suite (Playwright, in Debian's Chromium) against Herald.
# Usage: scripts/mercure-conformance.sh <conformance-tests dir> [compat]
#   <dir>: the conformance-tests/ folder of github.com/dunglas/mercure at a tag (v1.0.0-alpha.3 or
#          v0.24.2), with `npm install` done in it (it needs @playwright/test and dotenv; never
#          `playwright install`: /usr/bin/chromium is used).
#   compat: start Herald with MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8 (needed for v0.24.2).
# The suite's files are not changed; a config beside them (herald.config.ts) only picks Chromium.
# Herald is the built one (npm run build), on a free port; it is stopped by its PID at the end.
set -euo pipefail
dir=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$dir/herald.config.ts" <<'CONFIG'
import { devices } from "@playwright/test";
import base from "./playwright.config";

export default {
  ...base,
  reporter: "list",
  retries: 0,
  workers: 1,
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        },
      },
    },
  ],
};
CONFIG
[ -f "$dir/.env" ] || echo "CUSTOM_ID=1" > "$dir/.env"
compat=0
[ "${2:-}" = "compat" ] && compat=8
MERCURE_JWT_KEY='!ChangeThisMercureHubJWTSecretKey!' MERCURE_ISSUER=https://localhost \
  MERCURE_RESOURCE_IDENTIFIER=https://localhost/.well-known/mercure MERCURE_ANONYMOUS=true \
  MERCURE_PROTOCOL_VERSION_COMPATIBILITY=$compat HERALD_PORT=$port HERALD_HOST=127.0.0.1 HERALD_WORKERS=1 \
  HERALD_LOG_LEVEL=warn node "$root/packages/herald/bin/herald.js" &
herald=$!
trap 'kill $herald 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
cd "$dir"
BASE_URL="http://127.0.0.1:$port/.well-known/mercure" npx playwright test -c herald.config.ts
