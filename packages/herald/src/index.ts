/**
 * The `herald` package as a library: a hub inside your own Node program (docs/embedding.md).
 *
 *   import { configWith, startHerald } from "herald";
 *   const herald = await startHerald(configWith({ port: 0, jwtSecret: process.env.SECRET }));
 *   // herald.url; herald.hub.publish(...); then: await herald.close();
 *
 * `configWith` fills every setting not given with the `herald` command's default
 * (docs/configuration.md); `loadConfig` reads flags, environment variables and a config file's
 * values as text, the way the command does. Both throw a ConfigError that names the setting.
 */
export { ConfigError } from "./config/errors.ts";
export { configWith, type HeraldConfig, loadConfig } from "./config/settings.ts";
export { HeraldError, type HeraldErrorCode } from "./core/errors.ts";
export { type Herald, startHerald } from "./herald.ts";
