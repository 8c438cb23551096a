#!/usr/bin/env node
import cluster from "node:cluster";
import { Command } from "commander";
import { checkKeySettings } from "./auth/setup.ts";
import { ClusterFigures, type FiguresToPrimary, type FiguresToWorker } from "./cluster/figures.ts";
import { ClusterLimits, type LimitsToPrimary, type LimitsToWorker } from "./cluster/limits.ts";
import { type PresenceIpc, WorkerPresence } from "./cluster/presence.ts";
import { startPrimary, WORKER_INDEX_ENV, WORKER_PORT_ENV } from "./cluster/primary.ts";
import type { ToPrimary, ToWorker } from "./cluster/wire.ts";
import { ClusterBus } from "./cluster/worker-bus.ts";
import { addSettingFlags, type CommandLine, readCommandLine } from "./config/flags.ts";
import {
  ConfigError,
  type HeraldConfig,
  loadConfig,
  loadSetting,
  type RawSettings,
  readConfigFile,
} from "./config/settings.ts";
import { type Herald, type HeraldDeps, startHerald } from "./herald.ts";
import { createLogger, fatalLog, type Logger, logFormatOf } from "./ops/logger.ts";
import { watchParent } from "./ops/parent.ts";
import { onStopSignals } from "./ops/stop-signals.ts";

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

// One log for everything this process says: JSON lines, readable ones on a terminal (ops/logger.ts).
const isPrimary = cluster.isPrimary;
// `workers` undefined: not known (a refused config); a process that is no worker is then labelled
// as the `--workers` primary it was to be (null)
const logFor = (level: string, format: string, workers: number | undefined): Logger =>
  createLogger(level, {
    format: logFormatOf(format, process.stdout.isTTY === true),
    worker: isPrimary && workers !== 1 ? null : Number(process.env[WORKER_INDEX_ENV] ?? 0),
  });
let config: HeraldConfig;
let commandLine: CommandLine | undefined;
let fileSettings: RawSettings = {};
try {
  // flag > environment > config file > default (docs/configuration.md)
  commandLine = readCommandLine(program, process.env);
  const { configFile } = commandLine;
  if (configFile !== undefined) fileSettings = readConfigFile(configFile);
  config = loadConfig(commandLine.flags, process.env, fileSettings);
  checkKeySettings(config); // in the primary too, before any worker starts
} catch (error) {
  if (error instanceof ConfigError) {
    // labelled as the process's other lines would be: the primary's with --workers N (N > 1)
    const workers = loadSetting("workers", commandLine?.flags ?? {}, process.env, fileSettings);
    logFor("info", process.env.HERALD_LOG_FORMAT ?? "auto", workers).fatal(error.message);
    process.exit(1);
  }
  throw error;
}
const log = logFor(config.logLevel, config.logFormat, config.workers);
// Node's own warnings and a crash go to the same log (Node would print them in its own format)
process.removeAllListeners("warning");
process.on("warning", (warning) => log.warn({ name: warning.name }, warning.message));
process.on("uncaughtException", (error) => {
  fatalLog(log).fatal({ err: error }, `crashed: ${error.message}`);
  process.exit(1);
});

// --workers N (N > 1): this process becomes the node:cluster primary; the workers run this same
// command and serve HTTP (src/server/cluster-primary.ts).
// The demo feed publishes from one process only, or every worker would publish each tick.
if (cluster.isWorker && process.env[WORKER_INDEX_ENV] !== "0") config.demo = false;
// a replacement worker of `--port 0` listens where the first workers did (cluster/primary.ts)
if (cluster.isWorker && process.env[WORKER_PORT_ENV] !== undefined)
  config.port = Number(process.env[WORKER_PORT_ENV]);
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
  deps = { clusterFigures, sharedLimits, workers: config.workers };
}
if (cluster.isWorker && config.bus === "memory") {
  const bus = new ClusterBus({
    send: (message: ToPrimary) => sendToPrimary(message),
    onMessage: (listener) => process.on("message", (message: ToWorker) => listener(message)),
  });
  process.once("disconnect", () => bus.lost()); // the primary is gone: publishes fail fast
  // presence between the workers (src/cluster/presence.ts)
  const presenceChannel = new WorkerPresence({
    send: (message: PresenceIpc) => sendToPrimary(message),
    onMessage: (listener) => process.on("message", (message: PresenceIpc) => listener(message)),
  });
  deps = { ...deps, bus, presenceChannel };
}
// Aborted by the first stop: a primary still starting its workers then replaces none of them.
const stopAsked = new AbortController();
const starting = (
  config.workers > 1 && cluster.isPrimary
    ? startPrimary(config, log, stopAsked.signal)
    : startHerald(config, { ...deps, log })
).catch(cannotStart);
const stop = (signal: string) => {
  if (stopAsked.signal.aborted) return; // already stopping
  stopAsked.abort();
  log.info(`${signal}: stopping`);
  starting
    .then((started) => started.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        fatalLog(log).fatal({ err: error }, `shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
};
if (cluster.isPrimary) {
  // At once: a signal while the workers start waits for them, then stops everything gracefully.
  // SIGHUP (a closed terminal, or a hang-up sent by hand) too: the same graceful stop, not a kill
  // mid-write. A second signal a while later exits at once (ops/stop-signals.ts).
  onStopSignals(stop);
  // a parent that exits without passing its signal on (a shell, a killed npm): stop (ops/parent.ts)
  watchParent(() => stop("the parent process is gone"));
}
if (cluster.isWorker) {
  // Set before the start ends, so a signal or a message while it runs is handled once it has.
  process.once("SIGTERM", () => stop("SIGTERM"));
  // The primary stops its workers in two phases (src/cluster/primary.ts): drain, then stop.
  process.on("message", (message: { herald?: string }) => {
    if (message?.herald === "drain") {
      void starting
        .then((herald) => (herald as Herald).drain())
        .then(() => sendToPrimary({ herald: "drained" }));
    } else if (message?.herald === "stop") {
      stop("stop from the primary");
    }
  });
  // Ctrl-C (and a terminal's hang-up) signals every process of the group; the primary runs the
  // two-phase stop.
  process.on("SIGINT", () => {});
  process.on("SIGHUP", () => {});
  process.once("disconnect", () => stop("primary gone"));
}

const herald = await starting;
if ("failed" in herald) {
  // a replacement worker could not start: every worker has stopped (src/cluster/primary.ts)
  herald.failed.catch((error: unknown) => {
    fatalLog(log).fatal(`stopping: a worker cannot start: ${(error as Error).message}`);
    process.exit(1);
  });
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
  fatalLog(log).fatal(`cannot start: ${reason}`); // whatever --log-level says
  process.exit(1);
}

/**
 * Sends to the cluster primary; nothing once it is gone (`process.send` would then emit an
 * 'error' on process, uncaught: the 'disconnect' handlers already fail what waits for an answer).
 */
function sendToPrimary(message: unknown): void {
  if (process.connected) process.send?.(message);
}
