/**
 * The `herald` package as a library: a hub inside your own Node program (docs/embedding.md).
 *
 *   import { configWith, startHerald } from "herald";
 *   const herald = await startHerald(configWith({ port: 0, jwtSecret: process.env.SECRET }));
 *   // herald.url; await herald.publish([{ topics: ["news"], data: "..." }]); then: await herald.close();
 *
 * `configWith(overrides, { file, env })` takes each setting from the overrides, else the
 * environment variables given, else the config file, else the `herald` command's default
 * (docs/configuration.md), each checked as the command checks it: a ConfigError names the setting.
 */
export { ConfigError } from "./config/errors.ts";
export { type ConfigSources, configWith, type HeraldConfig } from "./config/settings.ts";
export { HeraldError, type HeraldErrorCode } from "./core/errors.ts";
export type { PublishInput } from "./core/event.ts";
export type { PublishResult } from "./core/hub.ts";
export { type Herald, startHerald } from "./herald.ts";
