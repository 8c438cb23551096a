import { isRedisUrl } from "../buses/redis-url.ts";
import { ConfigError } from "./errors.ts";
import type { HeraldConfig } from "./table.ts";

/**
 * The rules between settings, which no single value can break alone (a value's own bounds, such as
 * a duration's least, are its kind's: kinds.ts). Throws a ConfigError that names the settings and
 * how to fix them. The key settings' own checks, which need the auth code,
 * are in auth/setup.ts (`checkKeySettings`).
 */
export function checkRules(config: HeraldConfig): void {
  if (isRedisUrl(config.bus) && config.busRetention < config.historySize) {
    throw new ConfigError(
      `invalid HERALD_BUS_RETENTION / --bus-retention: ${config.busRetention} is less than HERALD_HISTORY_SIZE / --history-size (${config.historySize}); the shared log must hold at least the history: raise --bus-retention`,
    );
  }
  checkPresence(config);
  const keys = [config.jwtSecret, config.jwtPublicKey, config.jwksUrl].filter((k) => k !== "").length;
  if (keys > 1) {
    throw new ConfigError(
      "set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL: tokens are verified with one key source",
    );
  }
}

/** Presence and webhooks (docs/presence.md, docs/webhooks.md). */
function checkPresence(config: HeraldConfig): void {
  if (config.webhookUrl === "") return;
  if (config.webhookSecret === "") {
    throw new ConfigError(
      "HERALD_WEBHOOK_URL / --webhook-url needs HERALD_WEBHOOK_SECRET / --webhook-secret: receivers check each call's signature with it",
    );
  }
  if (config.presence.length === 0) {
    throw new ConfigError(
      "HERALD_WEBHOOK_URL / --webhook-url needs HERALD_PRESENCE / --presence: webhooks report the presence of the topics it selects",
    );
  }
}
