import { prng } from "../helpers/prng.ts";

/**
 * The seeded fault schedule: the same seed gives the same steps (kinds, targets, sizes, durations),
 * on every machine. What it cannot fix is timing: processes run at their own pace, so a seed
 * replays the same faults, not the same interleaving (run it a few times to reproduce a failure).
 *
 * The first steps are every fault the target has once, in a seeded order, so even a short run
 * covers them all; then faults are drawn at random. Every step that waits runs a burst meanwhile.
 */
export type Target = "memory" | "workers" | "redis" | "rabbitmq" | "redis-sentinel" | "redis-cluster";
export const TARGETS: readonly Target[] = [
  "memory",
  "workers",
  "redis",
  "rabbitmq",
  "redis-sentinel",
  "redis-cluster",
];

/** Targets on replicated Redis (test/helpers/redis-ha.ts): the primary can be killed and replaced. */
export const REPLICATED: readonly Target[] = ["redis-sentinel", "redis-cluster"];

/** Concurrent `POST /publish/batch` requests, one to each serving node in turn. */
export interface Burst {
  readonly batches: number;
  readonly size: number;
}

export type Step =
  | ({ readonly kind: "burst" } & Burst)
  /** SIGSTOP a node while a burst goes to the others, SIGCONT once it was answered and `ms` passed. */
  | ({ readonly kind: "stop-node"; readonly node: number; readonly ms: number } & Burst)
  /** A burst; SIGKILL a node 50 ms into it (its clients reconnect elsewhere), restart it after `ms`. */
  | ({ readonly kind: "kill-node"; readonly node: number; readonly ms: number } & Burst)
  /** A burst; SIGKILL the broker (persistence on) 50 ms into it, start it again after `ms`. */
  | ({ readonly kind: "kill-broker"; readonly ms: number } & Burst)
  /**
   * A burst; SIGKILL the Redis primary (replicated targets) 50 ms into it; once a replica took over,
   * start the old one again after `ms` (it comes back as a replica).
   */
  | ({ readonly kind: "kill-primary"; readonly ms: number } & Burst)
  /** SIGSTOP one worker of the node (`--workers`) for `ms` while a burst runs, then SIGCONT. */
  | ({ readonly kind: "stop-worker"; readonly worker: number; readonly ms: number } & Burst)
  /** SIGKILL one worker (the primary starts another) while a burst runs. */
  | ({ readonly kind: "kill-worker"; readonly worker: number } & Burst)
  /** A raw subscriber stops reading during a burst of big events, and `ms` at least (it may be cut off as slow). */
  | ({ readonly kind: "slow-reader"; readonly subscriber: number; readonly ms: number } & Burst);

export type FaultKind = Step["kind"];

export const FAULTS: Readonly<Record<Target, readonly FaultKind[]>> = {
  memory: ["burst", "stop-node", "kill-node", "slow-reader"],
  workers: ["burst", "stop-worker", "kill-worker", "slow-reader"],
  redis: ["burst", "stop-node", "kill-broker", "kill-node", "slow-reader"],
  rabbitmq: ["burst", "stop-node", "kill-broker", "kill-node", "slow-reader"],
  // faults after which nothing acknowledged may be missing and no stream told of a gap (wait >= 1)
  "redis-sentinel": ["kill-primary", "burst", "stop-node", "kill-node"],
  "redis-cluster": ["kill-primary", "burst", "stop-node", "kill-node"],
};

export interface ScheduleShape {
  readonly nodes: number;
  readonly workers: number;
  /** Indexes of the subscribers that can stop reading (raw clients). */
  readonly slowReaders: readonly number[];
  /** Events per batch of a burst: from `minBatch` to `maxBatch`. */
  readonly minBatch: number;
  readonly maxBatch: number;
  /** Events per batch of a slow reader's burst (3 batches of events of up to 6 KB). */
  readonly slowBatch: readonly [number, number];
  /** Longest SIGSTOP, broker or node outage, or reading pause, in ms. */
  readonly maxPauseMs: number;
}

/** The steps of `seed` for `target`, endless: take as many as the run has time for. */
export function* schedule(seed: number, target: Target, shape: ScheduleShape): Generator<Step> {
  const rng = prng(seed);
  const kinds = FAULTS[target];
  const first = [...kinds];
  for (let i = first.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [first[i], first[j]] = [first[j]!, first[i]!];
  }
  const burst = (): Burst => ({
    batches: 2 + rng.int(3),
    size: shape.minBatch + rng.int(shape.maxBatch - shape.minBatch + 1),
  });
  const pause = () => Math.round(shape.maxPauseMs * (0.3 + 0.7 * rng.next()));
  for (let i = 0; ; i++) {
    const kind = i < first.length ? first[i]! : rng.pick(kinds);
    switch (kind) {
      case "burst":
        yield { kind, ...burst() };
        break;
      case "stop-node":
      case "kill-node":
        yield { kind, node: rng.int(shape.nodes), ms: pause(), ...burst() };
        break;
      case "kill-broker":
      case "kill-primary":
        yield { kind, ms: pause(), ...burst() };
        break;
      case "stop-worker":
        yield { kind, worker: rng.int(shape.workers), ms: pause(), ...burst() };
        break;
      case "kill-worker":
        yield { kind, worker: rng.int(shape.workers), ...burst() };
        break;
      case "slow-reader": {
        // big enough that what it leaves unread outgrows the socket buffers (several MB on loopback)
        const [min, max] = shape.slowBatch;
        const size = min + rng.int(max - min + 1);
        yield { kind, subscriber: rng.pick(shape.slowReaders), ms: pause(), batches: 3, size };
        break;
      }
    }
  }
}

export function describeStep(step: Step): string {
  const burst = `burst ${step.batches}x${step.size}`;
  switch (step.kind) {
    case "burst":
      return burst;
    case "stop-node":
      return `SIGSTOP node ${step.node} during a ${burst} (${step.ms} ms at least)`;
    case "kill-node":
      return `${burst}, SIGKILL node ${step.node} 50 ms into it, restart after ${step.ms} ms`;
    case "kill-broker":
      return `${burst}, SIGKILL the broker 50 ms into it, restart after ${step.ms} ms`;
    case "kill-primary":
      return `${burst}, SIGKILL the Redis primary 50 ms into it, restart it ${step.ms} ms after the failover`;
    case "stop-worker":
      return `SIGSTOP worker ${step.worker} for ${step.ms} ms, ${burst}`;
    case "kill-worker":
      return `${burst}, SIGKILL worker ${step.worker} meanwhile`;
    case "slow-reader":
      return `subscriber ${step.subscriber} stops reading during a ${burst} of big events (${step.ms} ms at least)`;
  }
}
