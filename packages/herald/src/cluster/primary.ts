import cluster, { type Worker } from "node:cluster";
import { type AddressInfo, createServer } from "node:net";
import { CONTROL_RATE_NAMES } from "../access/rate-limiter.ts";
import { generateSecret } from "../auth/index.ts";
import { logDevToken, mintDevToken, noKeyConfigured } from "../auth/setup.ts";
import { MemoryBus } from "../buses/memory.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { AppendResult } from "../core/bus.ts";
import { HeraldError } from "../core/errors.ts";
import type { HeraldEvent } from "../core/event.ts";
import { boundAddress } from "../http/bound-address.ts";
import type { Logger } from "../ops/logger.ts";
import { STOP_SIGNALS } from "../ops/stop-signals.ts";
import { serveClusterFigures } from "./figures.ts";
import { serveClusterLimits } from "./limits.ts";
import { serveClusterPresence } from "./presence.ts";
import { RestartBackoff } from "./restart-backoff.ts";
import {
  type Answer,
  type AppendedWire,
  keptByWorker,
  RECENT_EVENTS,
  replayToWire,
  type ToPrimary,
  type ToWorker,
  toHolder,
  toWire,
  type WireEvent,
} from "./wire.ts";

/**
 * How many times in a row a worker (one index) may die before it listens without an exit code of
 * its own (killed by a signal: a crash, the OOM killer) before the whole process stops: once can
 * be bad luck, every time is a worker that cannot start.
 */
const MAX_KILLED_AT_START = 3;

/**
 * A worker killed by a stop signal (SIGTERM, SIGINT, SIGHUP) is replaced only after this long, and
 * only if the primary is not stopping by then: a Ctrl-C or a service manager signals the whole
 * process group, and the workers' deaths can reach the primary before its own signal does.
 */
const GROUP_SIGNAL_GRACE_MS = 500;
const STOP_SIGNAL_SET: ReadonlySet<string> = new Set(STOP_SIGNALS);

/** The environment variable that tells a worker its index; worker 0 runs the demo feed (`--demo`). */
export const WORKER_INDEX_ENV = "HERALD_WORKER_INDEX";
/**
 * With `--port 0`, the port the primary chose for every worker (`choosePort`): node:cluster shares
 * a port-0 server between workers only while one of them holds it, so replacements forked after
 * every worker died would get another free port than the one announced.
 */
export const WORKER_PORT_ENV = "HERALD_WORKER_PORT";

export interface Primary {
  /** A URL that reaches the workers from this machine: their host and port (`localhost` for every interface). */
  readonly url: string;
  /** Set when no key was configured: the workers share one random secret; this token is signed with it. */
  readonly devToken?: string;
  /** Stops the workers (each shuts down gracefully), then the log. */
  close(): Promise<void>;
  /**
   * Rejects with the reason when a worker cannot start (a replacement, after `startPrimary`
   * resolved), once every worker has stopped: the process must then exit 1.
   */
  readonly failed: Promise<never>;
}

/**
 * The node:cluster primary of `--workers N`. It serves no HTTP: the N workers share the port
 * (round robin) and serve every request. With the memory bus the primary owns the one log (a
 * MemoryBus): workers send it appends and replays (src/buses/cluster.ts), it assigns positions and
 * ids, and at the end of each of its event-loop turns sends every worker the events stored in that
 * turn followed by the answers for that worker, the answers to the appends stored in that turn
 * included: the publishing worker writes the events to its subscribers, then answers (its own
 * count as `queued`), while the other workers write them too. With another bus (Redis, RabbitMQ) each worker is simply
 * a node of that bus and the primary only starts and restarts workers.
 * A worker that dies is replaced (its streams reconnect and resume through another worker); one that
 * cannot start stops the whole process instead (`failed`). Resolves once every worker listens, or
 * at once when `stopAsked` aborts first (a signal during the start): from then on no worker is
 * replaced (a Ctrl-C or a service manager signals the whole group, and a worker still loading dies
 * of it), nothing says "listening", and `close` stops the workers left.
 */
export async function startPrimary(
  config: HeraldConfig,
  log: Logger,
  stopAsked?: AbortSignal,
): Promise<Primary> {
  const ownsLog = config.bus === "memory";
  const bus = ownsLog
    ? new MemoryBus({
        history: {
          maxEvents: config.historySize,
          maxBytes: config.historyMaxBytes,
          maxAgeMs: config.historyMaxAgeMs,
        },
      })
    : undefined;
  let stopping = false;
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      resolve();
    };
    if (stopAsked?.aborted === true) stop();
    else stopAsked?.addEventListener("abort", stop, { once: true });
  });
  let events: WireEvent[] = [];
  let headPos = 0;
  /** Answers for the next turn; an append's is built when sent (it may have to bring its event). */
  const answers = new Map<Worker, (Answer | (() => Answer))[]>();
  /** The last append rid taken from each worker, not yet acknowledged in a turn (`ToWorker.acked`). */
  const acks = new Map<Worker, number>();
  let scheduled = false;

  const appendAnswer = (rid: number, results: readonly AppendResult[]): Answer => ({
    rid,
    appended: results.map(({ event, duplicate }) => {
      const wire: AppendedWire = { pos: event.pos, duplicate };
      // a worker keeps the small events of its last RECENT_EVENTS positions (this turn's included);
      // past half of that, for a large event, or for a retry of an older event, the answer brings it
      if (duplicate || headPos - event.pos > RECENT_EVENTS / 2 || !keptByWorker(event)) {
        wire.event = toWire(event);
      }
      return wire;
    }),
  });
  const flush = () => {
    scheduled = false;
    const turn = events;
    events = [];
    const historySize = bus?.historySize() ?? 0;
    const headId = bus?.headId() ?? "";
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker === undefined || !worker.isConnected()) continue;
      const mine = (answers.get(worker) ?? []).map((a) => (typeof a === "function" ? a() : a));
      const acked = acks.get(worker);
      if (turn.length === 0 && mine.length === 0 && acked === undefined) continue;
      const message: ToWorker = { herald: "turn", events: turn, answers: mine, historySize, headId };
      if (acked !== undefined) message.acked = acked;
      worker.send(message);
    }
    answers.clear();
    acks.clear();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const answer = (worker: Worker, message: Answer | (() => Answer)) => {
    const list = answers.get(worker);
    if (list === undefined) answers.set(worker, [message]);
    else list.push(message);
    schedule();
  };
  const failed = (rid: number, error: unknown): Answer => {
    const herald =
      error instanceof HeraldError
        ? error
        : new HeraldError("internal", "the cluster primary failed to store");
    return { rid, error: { code: herald.code, message: herald.message } };
  };

  if (bus !== undefined) {
    await bus.start((appended) => {
      for (const event of appended) events.push(toWire(event));
      headPos = (appended[appended.length - 1] as HeraldEvent).pos;
      schedule();
    });
    cluster.on("message", (worker: Worker, message: ToPrimary) => {
      if (message?.herald === "append") {
        // taken now (stored or refused), whatever the answers wait for: the next turn says so
        const last = message.requests[message.requests.length - 1];
        if (last !== undefined) {
          acks.set(worker, last.rid);
          schedule();
        }
        // appended in arrival order: MemoryBus stores synchronously, so positions follow this loop
        for (const { rid, inputs } of message.requests) {
          bus.append(inputs).then(
            // answered in the turn that carries the events (after them: one ordered channel)
            (results) => answer(worker, () => appendAnswer(rid, results)),
            (error: unknown) => answer(worker, failed(rid, error)),
          );
        }
      } else if (message?.herald === "replay") {
        // the worker applies its subscriber's rights to `carrying` and `forgotten`, then names the
        // held events it may read (`accept`) and could have seen (`seen`): in that second request
        // only those block the id, should they leave the history meanwhile
        const { rid, lastEventId, limit, accept } = message;
        const carrying = accept === undefined ? bus.carrying(lastEventId).map(toHolder) : [];
        // with no held event carrying the id, the worker needs no stub: unknown either way
        const forgotten = carrying.length > 0 ? bus.forgotten(lastEventId).map(toHolder) : [];
        const seen = message.seen ?? accept;
        const visible = accept === undefined ? undefined : (e: HeraldEvent) => accept.includes(e.pos);
        const couldSee = seen === undefined ? undefined : (e: HeraldEvent) => seen.includes(e.pos);
        bus.replay(lastEventId, limit, visible, couldSee).then(
          (result) =>
            answer(worker, {
              rid,
              replayed: replayToWire(result),
              ...(carrying.length > 0 ? { carrying } : {}),
              ...(forgotten.length > 0 ? { forgotten } : {}),
            }),
          (error: unknown) => answer(worker, failed(rid, error)),
        );
      }
    });
  }

  if (ownsLog) serveClusterPresence(); // on another bus, each worker is a node of it
  serveClusterFigures(); // GET /status and /metrics of any worker answer for the whole cluster
  // stream and publish-rate limits are counted here, once for the whole machine
  serveClusterLimits(
    { total: config.maxConnections, perIp: config.maxConnectionsPerIp },
    { ratePerSec: config.publishRate, burst: config.publishBurst },
    { ratePerSec: config.controlRate, burst: config.controlBurst, names: CONTROL_RATE_NAMES },
  );

  // A worker that cannot start (it says why: `{herald: "fatal", reason}`, or it exits with a code
  // before it listens: a port in use, a bad setting...) would fail again in its replacement: the
  // whole process stops instead (every worker, then the primary: `failed`). A worker that dies
  // after it listened is replaced; so is one killed by a signal before it listened, up to
  // MAX_KILLED_AT_START times in a row.
  let failWith: (error: Error) => void = () => {};
  const startFailed = new Promise<never>((_resolve, reject) => {
    failWith = reject;
  });
  startFailed.catch(() => {}); // awaited by start, then by the CLI
  let allListening: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    allListening = resolve;
  });
  const listened = new WeakSet<Worker>();
  let listening = 0;
  let url = "";
  /** With `--port 0`: the free port every worker listens on (WORKER_PORT_ENV). */
  const boundPort = config.port === 0 ? await choosePort(config.host) : undefined;
  cluster.on(
    "listening",
    (worker: Worker, address: { address: string | null; port: number; addressType: number }) => {
      listened.add(worker);
      killedAtStart.delete(indexes.get(worker) ?? 0);
      listening++;
      if (listening === config.workers && !stopping) {
        // each worker logs the address it is bound to ("Herald listening"); node:cluster knows it
        // too, unless no host was given (every interface: `::`, or `0.0.0.0` without IPv6)
        const bound =
          address.address === null
            ? undefined
            : boundAddress({
                address: address.address,
                port: address.port,
                family: address.addressType === 6 ? "IPv6" : "IPv4",
              });
        url = bound?.url ?? `http://localhost:${address.port}`;
        log.info(
          { workers: config.workers, ...(bound === undefined ? {} : { address: bound.address }), url },
          "all workers listening",
        );
        allListening();
      }
    },
  );
  const fail = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.error({ reason }, "a worker cannot start; stopping every worker");
    void stopAll(Object.values(cluster.workers ?? {}), config.shutdownTimeoutMs).then(() =>
      failWith(new Error(reason)),
    );
  };
  cluster.on("message", (_worker: Worker, message: { herald?: string; reason?: unknown }) => {
    if (message?.herald === "fatal") fail(String(message.reason));
  });
  // Each worker knows its index (0..N-1); a replacement keeps the index of the worker it replaces.
  const indexes = new Map<Worker, number>();
  /** Per worker index: its deaths before it listened, in a row. */
  const killedAtStart = new Map<number, number>();
  const restarts = new RestartBackoff();
  const fork = (index: number) => {
    const worker = cluster.fork({
      [WORKER_INDEX_ENV]: String(index),
      ...(boundPort === undefined ? {} : { [WORKER_PORT_ENV]: String(boundPort) }),
    });
    indexes.set(worker, index);
    restarts.started(index, Date.now());
    // A send to a worker that just died fails (EPIPE) as an 'error' on it; with no listener that
    // would throw in the primary and stop every worker. Its 'exit' follows and is handled below.
    worker.on("error", (error: Error) => log.warn({ err: error, index }, "a message to a worker failed"));
  };
  cluster.on("exit", (worker, code, signal) => {
    answers.delete(worker);
    acks.delete(worker);
    const index = indexes.get(worker) ?? 0;
    indexes.delete(worker);
    if (stopping) return;
    if (signal !== null && STOP_SIGNAL_SET.has(signal)) {
      setTimeout(() => {
        if (!stopping) replace(worker, index, code, signal);
      }, GROUP_SIGNAL_GRACE_MS);
      return;
    }
    replace(worker, index, code, signal);
  });
  const replace = (worker: Worker, index: number, code: number | null, signal: string | null) => {
    if (!listened.has(worker) && signal === null && code !== 0) {
      fail(`a worker exited with code ${code} before it listened (see its output above)`);
      return;
    }
    if (!listened.has(worker)) {
      const times = (killedAtStart.get(index) ?? 0) + 1;
      killedAtStart.set(index, times);
      if (times >= MAX_KILLED_AT_START) {
        fail(
          `worker ${index} was killed (${signal ?? `exit code ${code}`}) before it listened, ${times} times in a row`,
        );
        return;
      }
    }
    const delayMs = restarts.died(index, Date.now());
    log.error(
      { index, workerPid: worker.process.pid, code, signal, delayMs },
      delayMs === 0 ? "a worker died; starting another" : `a worker died; starting another in ${delayMs} ms`,
    );
    if (delayMs === 0) fork(index);
    else
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delayMs);
  };
  // No key configured: every worker must verify with the same random secret, so the primary makes it.
  let devToken: string | undefined;
  if (noKeyConfigured(config)) {
    const secret = generateSecret();
    process.env.HERALD_JWT_SECRET = secret; // inherited by every worker (cluster.fork)
    devToken = await mintDevToken(secret, config);
  }
  for (let i = 0; i < config.workers && !stopping; i++) fork(i);
  await Promise.race([started, startFailed, stopRequested]);
  if (devToken !== undefined && !stopping) logDevToken(log, devToken, url);

  let closing: Promise<void> | undefined;
  return {
    url,
    devToken,
    failed: startFailed,
    close: () => {
      closing ??= (async () => {
        stopping = true;
        const all = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
        // a worker still starting takes no work yet: it just stops (SIGTERM: once started, at once)
        await stopAll(
          all.filter((worker) => !listened.has(worker)),
          config.shutdownTimeoutMs,
        );
        const workers = all.filter((worker) => listened.has(worker));
        // Two phases, so a publish accepted by one worker reaches the streams of every worker:
        // 1. every worker stops taking work and finishes the publishes it accepted;
        await Promise.all(workers.map((worker) => drainWorker(worker, config.shutdownTimeoutMs)));
        // 2. the last turn (the events of those publishes) goes out, then every worker ends its
        //    streams and exits. IPC keeps order per worker: each gets the turn before "stop".
        flush();
        await Promise.all(
          workers.map(
            (worker) =>
              new Promise<void>((resolve) => {
                if (worker.isDead()) return resolve();
                const timer = setTimeout(
                  () => worker.process.kill("SIGKILL"),
                  config.shutdownTimeoutMs + 5000,
                );
                worker.once("exit", () => {
                  clearTimeout(timer);
                  resolve();
                });
                if (worker.isConnected()) worker.send({ herald: "stop" });
                else worker.process.kill("SIGTERM");
              }),
          ),
        );
        await bus?.close();
        log.info("Herald primary stopped");
      })();
      return closing;
    },
  };
}

/** Stops `workers` at once (SIGTERM: a started worker shuts down gracefully; SIGKILL after the grace). */
function stopAll(workers: (Worker | undefined)[], timeoutMs: number): Promise<void> {
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker === undefined || worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill("SIGKILL"), timeoutMs + 5000);
          worker.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill("SIGTERM");
        }),
    ),
  ).then(() => undefined);
}

/** Asks a worker to drain (`Herald.drain`) and resolves when it says it has, or after `timeoutMs`. */
function drainWorker(worker: Worker, timeoutMs: number): Promise<void> {
  if (worker.isDead() || !worker.isConnected()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", done);
      resolve();
    };
    const onMessage = (message: { herald?: string }) => {
      if (message?.herald === "drained") done();
    };
    const timer = setTimeout(done, timeoutMs);
    worker.on("message", onMessage);
    worker.once("exit", done);
    worker.send({ herald: "drain" });
  });
}

/**
 * A free port on `host` for `--port 0` (a listen on port 0, closed at once): every worker then asks
 * for this one, so their shared server keeps it for the primary's life, replacements included.
 * Another program could take it between the close and the first worker's listen (milliseconds):
 * the workers would then fail to listen and the primary stops, saying why.
 */
function choosePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host === "" ? undefined : host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
