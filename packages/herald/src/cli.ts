#!/usr/bin/env node
import cluster from "node:cluster";
import { Command } from "commander";
import { checkKeySettings } from "./auth/setup.ts";
import { ClusterFigures, type FiguresToPrimary, type FiguresToWorker } from "./cluster/figures.ts";
import { ClusterLimits, type LimitsToPrimary, type LimitsToWorker } from "./cluster/limits.ts";
import { startPrimary, WORKER_INDEX_ENV } from "./cluster/primary.ts";
import type { ToPrimary, ToWorker } from "./cluster/wire.ts";
import { ClusterBus } from "./cluster/worker-bus.ts";
import { addSettingFlags, readCommandLine } from "./config/flags.ts";
import { ConfigError, type HeraldConfig, loadConfig, readConfigFile } from "./config/settings.ts";
import { type Herald, type HeraldDeps, startHerald } from "./herald.ts";
import { createLogger } from "./ops/logger.ts";

/**
 * The `herald` command. Every setting is a flag, a HERALD_* environment variable and a key of the
 * `--config` file (flags win, then the environment, then the file); `herald --help` lists them.
 */
const program = new Command("herald")
  .description("Herald: a Server-Sent Events hub (topics, Last-Event-ID replay, slow-client protection)")
  .version("0.1.0")
  .showHelpAfterError();
addSettingFlags(program);
program.parse();

let config: HeraldConfig;
try {
  // flag > environment > config file > default (docs/configuration.md)
  const { flags, configFile } = readCommandLine(program, process.env);
  config = loadConfig(flags, process.env, configFile === undefined ? {} : readConfigFile(configFile));
  checkKeySettings(config); // in the primary too, before any worker starts
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`herald: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

// --workers N (N > 1): this process becomes the node:cluster primary; the workers run this same
// command and serve HTTP (src/server/cluster-primary.ts).
// The demo feed publishes from one process only, or every worker would publish each tick.
if (cluster.isWorker && process.env[WORKER_INDEX_ENV] !== "0") config.demo = false;
let deps: HeraldDeps = {};
if (cluster.isWorker) {
  // GET /status and /metrics answer the whole cluster's figures (src/server/cluster-figures.ts).
  const clusterFigures = new ClusterFigures({
    send: (message: FiguresToPrimary) => sendToPrimary(message),
    onMessage: (listener) => process.on("message", (message: FiguresToWorker) => listener(message)),
  });
  // Stream and publish-rate limits count for the whole machine (src/server/cluster-limits.ts).
  const sharedLimits = new ClusterLimits({
    send: (message: LimitsToPrimary) => sendToPrimary(message),
    onMessage: (listener) => process.on("message", (message: LimitsToWorker) => listener(message)),
  });
  process.once("disconnect", () => sharedLimits.lost());
  deps = { clusterFigures, sharedLimits };
}
if (cluster.isWorker && config.bus === "memory") {
  const bus = new ClusterBus({
    send: (message: ToPrimary) => sendToPrimary(message),
    onMessage: (listener) => process.on("message", (message: ToWorker) => listener(message)),
  });
  process.once("disconnect", () => bus.lost()); // the primary is gone: publishes fail fast
  deps = { ...deps, bus };
}
const starting = (
  config.workers > 1 && cluster.isPrimary
    ? startPrimary(config, createLogger(config.logLevel))
    : startHerald(config, deps)
).catch(cannotStart);
const stop = (signal: string) => {
  process.stderr.write(`herald: ${signal} received, shutting down\n`);
  starting
    .then((started) => started.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`herald: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
};
if (cluster.isPrimary) {
  // At once: a signal while the workers start waits for them, then stops everything gracefully.
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
const herald = await starting;
if ("failed" in herald) {
  // a replacement worker could not start: every worker has stopped (src/server/cluster-primary.ts)
  herald.failed.catch((error: unknown) => {
    process.stderr.write(`herald: stopping: a worker cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}

if (herald.devToken !== undefined) {
  // Safe by default, still easy: the first publish works with this token (docs/auth.md).
  const base = herald.url;
  process.stderr.write(
    [
      "",
      "herald: no key configured (HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL), so tokens are",
      "herald: signed with a random secret made for this run. This token may publish to and read every topic:",
      "",
      `TOKEN=${herald.devToken}`,
      "",
      `curl -X POST ${base}/publish -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"topic":"news","data":"hello"}'`,
      "",
    ].join("\n"),
  );
}
if (config.allowAnonymousPublish) {
  process.stderr.write("herald: UNSAFE: anonymous publishing is on (HERALD_ALLOW_ANONYMOUS_PUBLISH=true)\n");
}

if (cluster.isWorker) {
  process.once("SIGTERM", () => stop("SIGTERM"));
  // The primary stops its workers in two phases (src/server/cluster-primary.ts): drain, then stop.
  process.on("message", (message: { herald?: string }) => {
    if (message?.herald === "drain") {
      void (herald as Herald).drain().then(() => sendToPrimary({ herald: "drained" }));
    } else if (message?.herald === "stop") {
      stop("stop from the primary");
    }
  });
  // Ctrl-C signals every process of the group; the primary runs the two-phase stop.
  process.on("SIGINT", () => {});
  process.once("disconnect", () => stop("primary gone"));
}

/**
 * Start failed: exit 1 with the reason. A `--workers` worker gives the reason to its primary, which
 * stops the whole process and prints it (rather than starting a replacement that would fail too).
 */
function cannotStart(error: unknown): Promise<never> {
  const reason = (error as Error).message;
  if (cluster.isWorker && process.connected && process.send !== undefined) {
    process.send({ herald: "fatal", reason }, () => process.exit(1));
    return new Promise<never>(() => {});
  }
  process.stderr.write(`herald: cannot start: ${reason}\n`);
  process.exit(1);
}

/**
 * Sends to the cluster primary; nothing once it is gone (`process.send` would then emit an
 * 'error' on process, uncaught: the 'disconnect' handlers already fail what waits for an answer).
 */
function sendToPrimary(message: unknown): void {
  if (process.connected) process.send?.(message);
}
