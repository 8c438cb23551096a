import { isRedisUrl, redisUrlProblem } from "../buses/redis-url.ts";
import { ConfigError } from "./errors.ts";
import type { HeraldConfig } from "./table.ts";

/**
 * The rules between settings, which no single value can break alone. Throws a ConfigError that
 * names the settings and how to fix them. The key settings' own checks, which need the auth code,
 * are in auth/setup.ts (`checkKeySettings`).
 */
export function checkRules(config: HeraldConfig): void {
  if (config.heartbeatMs < 1)
    throw new ConfigError("invalid HERALD_HEARTBEAT / --heartbeat: must be at least 1ms");
  const redis = redisUrlProblem(config.bus); // the Redis forms, checked in full (buses/redis-url.ts)
  if (redis !== undefined) throw new ConfigError(`invalid HERALD_BUS / --bus: ${redis}`);
  if (isRedisUrl(config.bus) && config.busRetention < config.historySize) {
    throw new ConfigError(
      `invalid HERALD_BUS_RETENTION / --bus-retention: ${config.busRetention} is less than HERALD_HISTORY_SIZE / --history-size (${config.historySize}); the shared log must hold at least the history: raise --bus-retention`,
    );
  }
  if (config.mercureHeartbeatMs < 1) {
    throw new ConfigError("invalid MERCURE_HEARTBEAT / --mercure-heartbeat: must be at least 1ms");
  }
  const keys = [config.jwtSecret, config.jwtPublicKey, config.jwksUrl].filter((k) => k !== "").length;
  if (keys > 1) {
    throw new ConfigError(
      "set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL: tokens are verified with one key source",
    );
  }
}
