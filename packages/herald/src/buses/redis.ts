import { randomBytes } from "node:crypto";
import { ErrorReply } from "redis";
import type { AppendResult, BusStatus } from "../core/bus.ts";
import { isControl } from "../core/control.ts";
import { HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { formatHubId } from "../core/ids.ts";
import { LogBus, type LogBusOptions, type LogEntry, type LostEntries } from "./log-bus.ts";
import { OutageLog } from "./outage-log.ts";
import { ANNOUNCE_SCRIPT, FAILOVER_MARKER, UNREPLICATED_MARKER } from "./redis-failover.ts";
import { createLink, type RedisLink } from "./redis-link.ts";
import { msOf, PUBLISH_SCRIPT, parseFields, type RawEntry, SEQ_PER_MS, streamIdToPos } from "./redis-log.ts";
import { RedisCredentialsError, refusalOf } from "./redis-refusal.ts";
import { DEFAULT_RETENTION, READER_BEAT_MS, READER_TTL_MS, RETENTION_SCRIPT } from "./redis-retention.ts";
import {
  checkRead,
  NEWEST_SCRIPT,
  parseRead,
  READ_SCRIPT,
  type StreamRead,
  type TailPoint,
} from "./redis-tail.ts";
import { parseRedisUrl, type RedisTarget, whereOf } from "./redis-url.ts";
import { backoffMs, sleep, unavailable } from "./retry.ts";

export interface RedisBusOptions extends LogBusOptions {
  /**
   * `redis://[user:pass@]host:port[/db]`, `redis+sentinel://host:port,.../<master>[/db]` or
   * `redis+cluster://host:port,...` (`rediss...` for TLS), with optional
   * `?wait=<replicas|auto>&wait-timeout=<duration>`, `tls-ca=`, `sentinel-username=` and
   * `sentinel-password=` (src/buses/redis-url.ts).
   */
  readonly url: string;
  /**
   * Prefix of Herald's keys (default `herald`; on a Redis Cluster `{herald}`, a hash tag, so that
   * every key of the log is in one slot): `<prefix>:log` is the stream producers XADD to.
   */
  readonly keyPrefix?: string;
  /**
   * Most entries the stream keeps (`XADD MAXLEN ~`), however far a node lags (default 100,000;
   * `--bus-retention`). Below it, entries are kept until every live node read them
   * (src/buses/redis-retention.ts). At least the history size.
   */
  readonly retention?: number;
}

/** Most entries one tail read takes. */
const READ_COUNT = 1000;

/** Redis errors that mean "not now" (a failover, a replica, a loading server): 503, retry. */
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|BUSY)/;

/**
 * The Redis bus: the log is a Redis stream, read on a second connection by a script that answers a
 * batch with the stream's counters (`XREAD BLOCK` only waits for new entries); the epoch is a key
 * beside it, so a flushed or lost Redis is recognised. The Redis is one server, the primary of a
 * Sentinel group, or the primary of the log's slot in a Redis Cluster (redis-link.ts).
 * Publishes go through one Lua script (atomic id deduplication) and answer once Redis replied and,
 * with `wait` N >= 1, once N replicas hold them (`WAIT`; else 503): that is what survives a
 * failover. For the guarantee to survive a crash of a lone Redis, run it with `appendonly yes` and
 * `appendfsync always`. A failover is marked in the log (redis-failover.ts); when any node may have
 * answered with N = 0 (its own setting, or `auto` before it saw a replica), every node reports a gap
 * there, since the old primary may have acknowledged entries it never passed on.
 * Retention (redis-retention.ts): entries stay until every live node has read them, up to the cap
 * `retention`. Entries deleted before this node read them (past the cap, a node stopped for longer
 * than the readers' TTL, a producer's own trim or XDEL) are found by the read script's counters
 * (redis-tail.ts) and reported as a gap: never lost silently.
 * When Redis is unreachable, appends reject with `unavailable` at once (no offline queue), the tail
 * retries with backoff and resumes after the last stream id it read.
 */
export class RedisBus extends LogBus {
  private readonly writer: RedisLink;
  private readonly reader: RedisLink;
  private readonly target: RedisTarget;
  private readonly keys: {
    log: string;
    ids: string;
    idPos: string;
    epoch: string;
    readers: string;
    lineage: string;
    unreplicated: string;
  };
  /** Replicas a publish waits for; `auto` raises it from 0 to 1 once the primary is seen with a replica. */
  private waitReplicas: number;
  /** The primary's replication id at the last read (a change on a promoted replica: a failover). */
  private replid: string | undefined;
  /**
   * The replication id of the primary this node last acknowledged a publish on without waiting for
   * a replica ('' = none, or that primary is still the one); passed to every script, which reports
   * the failover as a gap when it names another primary (redis-failover.ts).
   */
  private ackedOn = "";
  /** An announcement (`herald-control unreplicated`) was read since the last failover marker. */
  private unreplicatedSeen = false;
  /** The replication id of the last failover reported as a gap (one report per failover). */
  private gapReplid: string | undefined;
  /** Where the tail continues after; undefined = load the history first. */
  private point: TailPoint | undefined;
  private loop: Promise<void> | undefined;
  /** This node's field in the readers hash. */
  private readonly nodeId = randomBytes(8).toString("hex");
  private readonly retention: number;
  private beat: ReturnType<typeof setInterval> | undefined;
  private beating = false;
  private warnedOldRedis = false;
  /** The last connection error, for /readyz (the clients reconnect by themselves). */
  private lastError: Error = new Error("reconnecting");
  /** An outage logged once, and its end (buses/outage-log.ts). */
  private readonly outage: OutageLog;

  constructor(redisOptions: RedisBusOptions) {
    super(redisOptions);
    this.target = parseRedisUrl(redisOptions.url);
    this.outage = new OutageLog(this.log, `Redis at ${this.where()}`, { redis: this.where() });
    let prefix = redisOptions.keyPrefix ?? "herald";
    if (this.target.mode === "cluster" && !/\{[^}]+\}/.test(prefix)) prefix = `{${prefix}}`;
    this.keys = {
      log: `${prefix}:log`,
      ids: `${prefix}:ids`,
      idPos: `${prefix}:id-pos`,
      epoch: `${prefix}:epoch`,
      readers: `${prefix}:readers`,
      lineage: `${prefix}:lineage`,
      unreplicated: `${prefix}:unreplicated`,
    };
    this.retention = Math.max(redisOptions.retention ?? DEFAULT_RETENTION, redisOptions.history.maxEvents);
    this.waitReplicas = this.target.wait === "auto" ? 0 : this.target.wait;
    const make = (): RedisLink =>
      createLink({
        target: this.target,
        routeKey: this.keys.log,
        onError: (error) => {
          this.lastError = error;
          // Redis down at start: the tail waits in `connect`, which does not throw; the links'
          // errors tell of it (refused credentials are logged by the tail, as errors)
          if (!this.closed && !this.writer.ready && !isRefusal(error)) {
            this.outage.unreachable(this.whyDown(error));
          }
        },
      });
    this.writer = make();
    this.reader = make();
  }

  override status(): BusStatus {
    if (!this.closed && !this.writer.ready) {
      return { ready: false, reason: this.whyDown(this.lastError) };
    }
    return super.status();
  }

  /**
   * Why Redis cannot be used, for /readyz, logs and 503s: refused credentials are said as such
   * (with where to set them), anything else is "unreachable". Never holds a password.
   */
  private whyDown(error: Error): string {
    if (error instanceof RedisCredentialsError) return error.message;
    const reply = refusalOf(error);
    if (reply !== undefined) return new RedisCredentialsError("nodes", this.where(), reply).message;
    return `Redis at ${this.where()} is unreachable: ${error.message}`;
  }

  protected async connect(): Promise<void> {
    this.loop = this.tail();
    this.beat = setInterval(() => void this.keepFrom(), READER_BEAT_MS);
    this.beat.unref();
  }

  protected async disconnect(): Promise<void> {
    clearInterval(this.beat);
    if (this.writer.ready) {
      // a node that stops holds no entry back (a crashed one does, for the readers' TTL)
      await this.writer.send(["HDEL", this.keys.readers, this.nodeId]).catch(() => undefined);
    }
    this.reader.close();
    this.writer.close();
    await this.loop;
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    this.checkIds(inputs);
    if (!this.writer.ready) {
      if (isRefusal(this.lastError))
        throw new HeraldError("unavailable", `${this.whyDown(this.lastError)}; nothing was stored`, {
          retryAfterSeconds: 2,
        });
      throw unavailable(`Redis at ${this.where()}`);
    }
    const replicas = this.waitReplicas;
    const announce = replicas === 0 && this.target.mode !== "single";
    const args: string[] = [
      String(this.retention),
      randomBytes(5).toString("hex"),
      announce ? "1" : "",
      this.ackedOn,
    ];
    for (const input of inputs) {
      args.push(
        input.id ?? "",
        JSON.stringify(input.topics),
        input.data,
        input.type ?? "",
        input.retry === undefined ? "" : String(input.retry),
        input.private === true ? "true" : "",
        "",
        input.scope ?? "",
      );
    }
    const script = [
      "EVAL",
      PUBLISH_SCRIPT,
      "6",
      this.keys.log,
      this.keys.ids,
      this.keys.idPos,
      this.keys.epoch,
      this.keys.lineage,
      this.keys.unreplicated,
      ...args,
    ];
    const timeoutMs = this.target.waitTimeoutMs;
    let reply: string[];
    let acked = 0;
    try {
      if (replicas === 0) reply = (await this.writer.send(script)) as string[];
      else {
        const answer = await this.writer.sendAndWait(script, replicas, timeoutMs);
        reply = answer.reply as string[];
        acked = answer.acked;
      }
    } catch (error) {
      if (isRefusal(error)) {
        throw new HeraldError("unavailable", `${this.whyDown(error as Error)}; nothing was stored`, {
          retryAfterSeconds: 2,
        });
      }
      if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) {
        throw new HeraldError("internal", `Redis refused the publish: ${error.message}`, { cause: error });
      }
      throw unavailable(`Redis at ${this.where()}`, error);
    }
    if (acked < replicas) {
      throw new HeraldError(
        "unavailable",
        `Redis stored the event on its primary, but only ${acked} of the ${replicas} replica(s) the bus waits for (wait=${replicas}) confirmed it within ${timeoutMs} ms, so it could be lost if the primary failed and is not acknowledged; retry with the same "id" (a retry of an event with an id is not stored twice), and check the replicas (INFO replication) or the bus URL's wait=`,
        { retryAfterSeconds: 2 },
      );
    }
    const epoch = reply[0] as string;
    this.noteAck(reply[1] as string, announce);
    const stored = inputs.map((input, i) => {
      const streamId = reply[2 + 2 * i] as string;
      return {
        input,
        streamId,
        pos: streamIdToPos(streamId) ?? 0,
        duplicate: Number(reply[3 + 2 * i]) === 1,
      };
    });
    await this.waitForPos(Math.max(...stored.map((s) => s.pos)));
    return stored.map(({ input, streamId, pos, duplicate }) => {
      const id = input.id ?? formatHubId(epoch, pos);
      // the event the tail delivered (the hub counts its subscribers by that object)
      const held = input.id === undefined ? this.history.atPos(pos) : this.history.retryOf(input);
      // stored although the local history holds a retry of it (its entry was trimmed from the
      // stream, or two retries raced): the tail skipped it, the held one stands
      if (held !== undefined) return { event: held, duplicate: duplicate || held.pos !== pos };
      return { event: this.toEvent({ pos, input: { ...input, id }, time: msOf(streamId) }), duplicate };
    });
  }

  /**
   * Follows `ackedOn` from a script's answer: `replid` is the primary it ran on; `unreplicated`: a
   * publish this node answers without waiting for a replica. Once a script ran on another primary,
   * the failover was reported (by that script or an earlier one): `ackedOn` is cleared.
   */
  private noteAck(replid: string, unreplicated: boolean): void {
    if (unreplicated && replid !== "") this.ackedOn = replid;
    else if (replid !== "" && replid !== this.ackedOn) this.ackedOn = "";
  }

  /**
   * A node whose wait is 0 when it syncs announces it in the log (redis-failover.ts) before it
   * answers publishes, so that the nodes running already read it while the primary has it. Not on
   * one server (no failover to tell of).
   */
  private async announce(): Promise<void> {
    if (this.waitReplicas !== 0 || this.target.mode === "single") return;
    const replid = await this.reader.send([
      "EVAL",
      ANNOUNCE_SCRIPT,
      "3",
      this.keys.log,
      this.keys.lineage,
      this.keys.unreplicated,
      this.ackedOn,
    ]);
    if (typeof replid === "string") this.noteAck(replid, false);
  }

  private where(): string {
    return whereOf(this.target);
  }

  /** The stream's newest entry ever added (`LogBus.liveHead`); 0 for no stream; on the writer link. */
  protected override async newestPos(): Promise<number | undefined> {
    if (!this.writer.ready) return undefined;
    const newest = await this.writer.send(["EVAL", NEWEST_SCRIPT, "1", this.keys.log]);
    return typeof newest === "string" ? streamIdToPos(newest) : 0;
  }

  /** Reads the epoch (creating it on a new log), loads the history if needed, then tails. */
  private async tail(): Promise<void> {
    let attempt = 0;
    let synced = false;
    while (!this.closed) {
      try {
        // a destroyed client can connect again: look at `closed` after every wait
        await this.reader.connect();
        if (this.closed) return;
        // before the first (or a new) sync, so that the node takes publishes once it is ready
        if (!synced && !this.writer.ready) await this.writer.connect();
        if (this.closed) return;
        if (!synced) {
          await this.syncEpoch();
          if (this.point === undefined) await this.load();
          await this.announce();
          synced = true;
          this.markSynced();
          await this.keepFrom();
          this.outage.reachable();
          attempt = 0;
        }
        const point = this.point as TailPoint;
        // The epoch comes with the read (one script): no entry of a new log (a flushed Redis keeps
        // the connection) is delivered under the old epoch.
        const read = await this.read("tail", point.lastId, READ_COUNT);
        if (read.epoch !== this.epoch) {
          synced = false;
          continue;
        }
        const { next, lost } = checkRead(this.followPrimary(point, read), read);
        this.point = next;
        if (read.entries.length > 0 || lost !== undefined) this.take(read.entries, lost);
        if (read.entries.length < READ_COUNT) {
          // caught up: wait (at most 1 s, then look at the epoch again) for an entry after it
          await this.reader.send([
            "XREAD",
            "COUNT",
            "1",
            "BLOCK",
            "1000",
            "STREAMS",
            this.keys.log,
            next.lastId,
          ]);
        }
      } catch (error) {
        if (this.closed) return;
        synced = false;
        const why = this.whyDown(error as Error);
        // refused credentials: logged each time the reason changes (waiting will not fix them)
        if (isRefusal(error)) {
          if (why !== this.notReadyReason) this.log.error({ redis: this.where() }, why);
        } else this.outage.unreachable(why);
        this.notReadyReason = why;
        await sleep(backoffMs(attempt++));
      }
    }
  }

  private async read(mode: "tail" | "load", after: string, count: number): Promise<StreamRead> {
    const reply = await this.reader.send([
      "EVAL",
      READ_SCRIPT,
      "4",
      this.keys.log,
      this.keys.epoch,
      this.keys.lineage,
      this.keys.unreplicated,
      mode,
      after,
      String(count),
      this.ackedOn,
    ]);
    const read = parseRead(reply);
    this.noteAck(read.replid, false);
    if (this.target.wait === "auto" && this.waitReplicas === 0 && read.replicas > 0) {
      this.waitReplicas = 1;
      this.log.info(
        { redis: this.where() },
        "the Redis primary has a replica: publishes now wait for 1 replica (wait=auto)",
      );
    }
    return read;
  }

  /**
   * The tail point to check `read` against. After a failover (a new replication id on a promoted
   * primary) the count of entries this node read may exceed the new primary's (it read entries the
   * old one never passed on): it is recounted once the tail reaches the newest entry.
   */
  private followPrimary(point: TailPoint, read: StreamRead): TailPoint {
    const before = this.replid;
    if (read.replid !== "") this.replid = read.replid;
    if (before === undefined || read.replid === "" || read.replid === before || !read.promoted) return point;
    this.log.warn(
      { redis: this.where(), wait: this.waitReplicas },
      this.waitReplicas === 0
        ? "the Redis primary changed (failover); with wait=0 events it acknowledged may be lost: streams get herald.missed (gap) at the failover"
        : "the Redis primary changed (failover); tailing resumes on the new primary",
    );
    return { lastId: point.lastId, ordinal: undefined };
  }

  private async syncEpoch(): Promise<void> {
    const candidate = randomBytes(5).toString("hex");
    await this.reader.send(["SET", this.keys.epoch, candidate, "NX"]);
    const epoch = (await this.reader.send(["GET", this.keys.epoch])) as string;
    if (this.epoch !== undefined && this.epoch !== epoch) this.point = undefined;
    this.adoptEpoch(epoch);
  }

  /**
   * Loads the newest `history.maxEvents` events into the history (the first start, or a new
   * epoch); the tail continues after the newest entry ever added. It reads up to `maxEvents` events
   * older than those too, and passes them through the history as a running node did: they leave it
   * (their ids are remembered as stubs, `ForgottenIds`, their data dropped), so a node that starts
   * refuses a resume from an id whose event left the other nodes' histories (the retention keeps
   * them: `keepFrom`). Control entries (control records, failover markers) are not events: the
   * load reads older pages until it has twice `maxEvents` events or reached the oldest entry, so a
   * flood of records (anyone may cause them: a refused ticket) cannot leave a starting node without
   * the history. It reads at most the stream's cap (`--bus-retention`) entries.
   */
  private async load(): Promise<void> {
    const want = 2 * this.options.history.maxEvents;
    const read = await this.read("load", "0-0", want);
    if (read.epoch !== this.epoch) throw new Error("the log changed while it was loaded");
    this.replid = read.replid === "" ? this.replid : read.replid;
    if (read.added === undefined && !this.warnedOldRedis) {
      this.warnedOldRedis = true;
      this.log.warn(
        { redis: this.where() },
        "Redis is older than 7.0: an entry deleted with XDEL before this node read it goes unnoticed, and a trim right after the last entry read may be reported as a gap; use Redis 7",
      );
    }
    const newestFirst = [...read.entries];
    let events = newestFirst.filter(isEventEntry).length;
    let page = read.entries;
    while (events < want && page.length > 0 && newestFirst.length < this.retention) {
      const oldest = (page[page.length - 1] as RawEntry)[0];
      const count = Math.min(Math.max(want - events, 256), this.retention - newestFirst.length);
      page = (await this.reader.send([
        "XREVRANGE",
        this.keys.log,
        `(${oldest}`,
        "-",
        "COUNT",
        String(count),
      ])) as RawEntry[];
      newestFirst.push(...page);
      events += page.filter(isEventEntry).length;
    }
    this.point = { lastId: read.lastGenerated, ordinal: read.added };
    this.beginLoad();
    try {
      this.take(newestFirst.reverse(), undefined, true);
    } finally {
      this.endLoad();
    }
  }

  /**
   * Reconnects the writer in the background when it is not ready (a first connection, a Cluster
   * client to build again, a Sentinel primary to probe): publishes meanwhile answer 503.
   */
  private connectWriter(): void {
    if (this.closed || this.writer.ready) return;
    this.writer.connect().catch(() => undefined);
  }

  /**
   * Records in Redis the oldest entry this node still needs (the oldest of the events that left its
   * history and that it remembers, `History.rememberedFrom`, else its oldest held event, else the
   * last entry read) and trims the stream to the oldest one every live node needs (redis-retention.ts).
   */
  private async keepFrom(): Promise<void> {
    this.connectWriter();
    if (this.beating || this.closed || this.point === undefined || !this.writer.ready) return;
    this.beating = true;
    try {
      const oldest = this.history.rememberedFrom();
      const keep =
        oldest === undefined
          ? this.point.lastId
          : `${Math.floor(oldest / SEQ_PER_MS)}-${oldest % SEQ_PER_MS}`;
      await this.writer.send([
        "EVAL",
        RETENTION_SCRIPT,
        "2",
        this.keys.log,
        this.keys.readers,
        this.nodeId,
        keep,
        String(READER_TTL_MS),
      ]);
    } catch (error) {
      if (!this.closed) this.log.warn({ err: error }, "could not record this node's place in the Redis log");
    } finally {
      this.beating = false;
    }
  }

  /**
   * Delivers raw entries in order. A failover marker (redis-failover.ts) is a control entry; it is
   * also a gap (read live: reported; loaded: no replay crosses it) when some node may have
   * acknowledged entries before it that the new primary never got: this node's wait is 0, the
   * marker says `gap`, or an announcement was read since the last marker. At most one gap per
   * failover (the markers of one failover carry one replication id).
   */
  private take(raw: readonly RawEntry[], lost?: LostEntries, loading = false): void {
    let entries: LogEntry[] = [];
    let gap = lost;
    for (const [streamId, fields] of raw) {
      const pos = streamIdToPos(streamId);
      if (pos === undefined) {
        this.log.error(
          { streamId },
          "skipped a stream entry: its id maps to no position (more than 1024 entries in one millisecond?); XADD with *",
        );
        continue;
      }
      const { input, token, control, gap: markedGap, replid } = parseFields(fields);
      if (control === UNREPLICATED_MARKER) {
        if (pos > this.headPos || loading) this.unreplicatedSeen = true;
        entries.push({ pos, time: msOf(streamId), input, control: true });
        continue;
      }
      if (control === FAILOVER_MARKER) {
        const isGap =
          (this.waitReplicas === 0 || markedGap || this.unreplicatedSeen) &&
          (replid === undefined || replid !== this.gapReplid);
        if (pos > this.headPos || loading) this.unreplicatedSeen = false;
        if (isGap && replid !== undefined) this.gapReplid = replid;
        if (isGap && loading) {
          // no stream to tell yet, but a replay must not cross it either
          this.floorAt(pos - 1);
        } else if (isGap && pos > this.headPos) {
          // reported after what was delivered before the marker (`pos - 1`: nothing lies between)
          this.deliverEntries(entries, gap);
          entries = [];
          gap = { pos: pos - 1 };
        }
        entries.push({ pos, time: msOf(streamId), input, control: true });
        continue;
      }
      entries.push({ pos, time: msOf(streamId), input, token });
    }
    this.deliverEntries(entries, gap);
  }
}

/** True for an error that is Redis (or its Sentinels) refusing Herald's credentials. */
function isRefusal(error: unknown): boolean {
  return error instanceof RedisCredentialsError || refusalOf(error) !== undefined;
}

/** True for a log entry that is an event (not a control record, not a failover marker). */
function isEventEntry([, fields]: RawEntry): boolean {
  const { input, control } = parseFields(fields);
  return control === undefined && !isControl(input);
}
