import { type DestinationStream, destination, type Logger, pino, stdTimeFunctions } from "pino";
import { prettyLine } from "./log-pretty.ts";

export type { Logger };

/** `json`: one JSON object a line, for collectors; `pretty`: a readable line an entry, for a terminal. */
export type LogFormat = "json" | "pretty";

export interface LogOptions {
  /** Default `json`. */
  readonly format?: LogFormat;
  /**
   * Which process writes: the index of a process serving HTTP (0..N-1 under `--workers N`; 0 for a
   * single process, the default), or `null` for the `--workers` primary, which serves no HTTP.
   */
  readonly worker?: number | null;
}

/**
 * Herald's one log (pino). Every line carries `time` (ISO 8601), `level` (its name), `service`,
 * `pid` and `worker` (see LogOptions), then the entry's fields and `msg`. JSON lines are written
 * synchronously to stdout, one write() a line: the lines of several processes sharing stdout do not
 * mix, and none is lost when the process exits right after logging.
 */
export function createLogger(level: string, options: LogOptions = {}): Logger {
  const stream: DestinationStream =
    options.format === "pretty"
      ? { write: (line: string) => void process.stdout.write(prettyLine(line)) }
      : destination({ dest: 1, sync: true });
  return pino(
    {
      level,
      base: {
        service: "herald",
        pid: process.pid,
        worker: options.worker === undefined ? 0 : options.worker,
      },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/**
 * The log to say why the process stops (a failed start, a crash, a failed shutdown): `log`, or,
 * when its level hides fatal entries (`--log-level silent`), a child of it that shows them. The
 * reason the process exits is always printed, whatever the log level.
 */
export function fatalLog(log: Logger): Logger {
  return log.isLevelEnabled("fatal") ? log : log.child({}, { level: "fatal" });
}

/** `--log-format auto` (the default): `pretty` when stdout is a terminal, else `json`. */
export function logFormatOf(setting: string, stdoutIsTty: boolean): LogFormat {
  if (setting === "json" || setting === "pretty") return setting;
  return stdoutIsTty ? "pretty" : "json";
}
