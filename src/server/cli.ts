#!/usr/bin/env node
import { Command } from "commander";
import { startHerald } from "./app.ts";
import { ConfigError, type HeraldConfig, loadConfig, SETTINGS } from "./config.ts";

/**
 * The `herald` command. Every setting is a flag and a HERALD_* environment variable (flags win);
 * `herald --help` lists them with their defaults.
 */
const program = new Command("herald")
  .description("Herald: a Server-Sent Events hub (topics, Last-Event-ID replay, slow-client protection)")
  .version("0.1.0")
  .showHelpAfterError();
for (const spec of SETTINGS) {
  program.option(
    spec.kind === "boolean" ? `--${spec.flag} [value]` : `--${spec.flag} <value>`,
    `${spec.help} [env ${spec.env}, default ${JSON.stringify(spec.default)}]`,
  );
}
program.parse();

const options = program.opts<Record<string, string | true>>();
const flags: Partial<Record<keyof HeraldConfig, string>> = {};
for (const spec of SETTINGS) {
  const camel = spec.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const value = options[camel];
  if (value !== undefined) flags[spec.key] = value === true ? "true" : value;
}

let config: HeraldConfig;
try {
  config = loadConfig(flags, process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`herald: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const herald = await startHerald(config).catch((error: unknown) => {
  process.stderr.write(`herald: cannot start: ${(error as Error).message}\n`);
  process.exit(1);
});

const stop = (signal: string) => {
  process.stderr.write(`herald: ${signal} received, shutting down\n`);
  herald.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`herald: shutdown failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.once("SIGTERM", () => stop("SIGTERM"));
process.once("SIGINT", () => stop("SIGINT"));
