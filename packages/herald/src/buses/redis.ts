import { randomBytes } from "node:crypto";
import { createClient, ErrorReply, type RedisClientType } from "redis";
import type { AppendResult, BusStatus } from "../core/bus.ts";
import { HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { formatHubId, parseHubId } from "../core/ids.ts";
import { LogBus, type LogBusOptions, type LogEntry, type LostEntries } from "./log-bus.ts";
import { msOf, PUBLISH_SCRIPT, parseFields, type RawEntry, SEQ_PER_MS, streamIdToPos } from "./redis-log.ts";
import { DEFAULT_RETENTION, READER_BEAT_MS, READER_TTL_MS, RETENTION_SCRIPT } from "./redis-retention.ts";
import { checkRead, parseRead, READ_SCRIPT, type StreamRead, type TailPoint } from "./redis-tail.ts";
import { backoffMs, sleep, unavailable } from "./retry.ts";

export interface RedisBusOptions extends LogBusOptions {
  /** redis://[user:pass@]host:port[/db] */
  readonly url: string;
  /** Prefix of Herald's keys (default `herald`): `<prefix>:log` is the stream producers XADD to. */
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

type Client = RedisClientType;

/**
 * The Redis bus: the log is a Redis stream, read on a second connection by a script that answers a
 * batch with the stream's counters (`XREAD BLOCK` only waits for new entries); the epoch is a key
 * beside it, so a flushed or lost Redis is recognised. Publishes go through one Lua script (atomic
 * id deduplication) and answer once Redis replied; for the guarantee to survive a Redis crash, run
 * Redis with `appendonly yes` and `appendfsync always`.
 * Retention (redis-retention.ts): entries stay until every live node has read them, up to the cap
 * `retention`. Entries deleted before this node read them (past the cap, a node stopped for longer
 * than the readers' TTL, a producer's own trim or XDEL) are found by the read script's counters
 * (redis-tail.ts) and reported as a gap: never lost silently.
 * When Redis is unreachable, appends reject with `unavailable` at once (no offline queue), the tail
 * retries with backoff and resumes after the last stream id it read.
 */
export class RedisBus extends LogBus {
  private readonly writer: Client;
  private readonly reader: Client;
  private readonly keys: { log: string; ids: string; idPos: string; epoch: string; readers: string };
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
  private lastError = "reconnecting";

  constructor(private readonly redisOptions: RedisBusOptions) {
    super(redisOptions);
    const prefix = redisOptions.keyPrefix ?? "herald";
    this.keys = {
      log: `${prefix}:log`,
      ids: `${prefix}:ids`,
      idPos: `${prefix}:id-pos`,
      epoch: `${prefix}:epoch`,
      readers: `${prefix}:readers`,
    };
    this.retention = Math.max(redisOptions.retention ?? DEFAULT_RETENTION, redisOptions.history.maxEvents);
    const make = (): Client =>
      createClient({
        url: redisOptions.url,
        disableOfflineQueue: true,
        socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => backoffMs(retries) },
      }) as Client;
    this.writer = make();
    this.reader = make();
    for (const client of [this.writer, this.reader]) {
      client.on("error", (error: Error) => {
        this.lastError = error.message;
      });
    }
  }

  override status(): BusStatus {
    if (!this.closed && !this.writer.isReady) {
      return { ready: false, reason: `Redis at ${this.where()} is unreachable: ${this.lastError}` };
    }
    return super.status();
  }

  protected async connect(): Promise<void> {
    this.loop = this.tail();
    this.beat = setInterval(() => void this.keepFrom(), READER_BEAT_MS);
    this.beat.unref();
  }

  protected async disconnect(): Promise<void> {
    clearInterval(this.beat);
    if (this.writer.isReady) {
      // a node that stops holds no entry back (a crashed one does, for the readers' TTL)
      await this.writer.sendCommand(["HDEL", this.keys.readers, this.nodeId]).catch(() => undefined);
    }
    for (const client of [this.reader, this.writer]) {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    }
    await this.loop;
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    this.checkIds(inputs);
    if (!this.writer.isReady) throw unavailable(`Redis at ${this.where()}`);
    const args: string[] = [String(this.retention), randomBytes(5).toString("hex")];
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
    let reply: string[];
    try {
      reply = (await this.writer.sendCommand([
        "EVAL",
        PUBLISH_SCRIPT,
        "4",
        this.keys.log,
        this.keys.ids,
        this.keys.idPos,
        this.keys.epoch,
        ...args,
      ])) as unknown as string[];
    } catch (error) {
      if (error instanceof ErrorReply) {
        throw new HeraldError("internal", `Redis refused the publish: ${error.message}`, { cause: error });
      }
      throw unavailable(`Redis at ${this.where()}`, error);
    }
    const epoch = reply[0] as string;
    const stored = inputs.map((input, i) => {
      const streamId = reply[1 + 2 * i] as string;
      return {
        input,
        streamId,
        pos: streamIdToPos(streamId) ?? 0,
        duplicate: Number(reply[2 + 2 * i]) === 1,
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
   * A publisher id this node does not hold may be one another node already delivered: wait
   * (bounded) until the tail reached the stream's newest entry before answering the replay. A hub
   * id of this log names a position: `super.catchUp` waits for it when it is ahead.
   */
  protected override async catchUp(lastEventId: string): Promise<void> {
    const position = parseHubId(lastEventId)?.epoch === this.epoch;
    if (!position && !this.history.holds(lastEventId) && this.writer.isReady) {
      try {
        const newest = (await this.writer.sendCommand([
          "XREVRANGE",
          this.keys.log,
          "+",
          "-",
          "COUNT",
          "1",
        ])) as unknown as RawEntry[];
        const pos = newest[0] === undefined ? undefined : streamIdToPos(newest[0][0]);
        if (pos !== undefined) await this.waitForPos(pos);
      } catch {
        // Redis unreachable: answer from what this node holds
      }
    }
    await super.catchUp(lastEventId);
  }

  private where(): string {
    const url = new URL(this.redisOptions.url);
    return `${url.hostname}:${url.port || "6379"}`;
  }

  /** Reads the epoch (creating it on a new log), loads the history if needed, then tails. */
  private async tail(): Promise<void> {
    let attempt = 0;
    let synced = false;
    while (!this.closed) {
      try {
        // a destroyed client can connect again: look at `closed` after every wait
        if (!this.reader.isOpen) await this.reader.connect();
        if (this.closed) return;
        if (!this.writer.isOpen) await this.writer.connect();
        if (this.closed) return;
        if (!synced) {
          await this.syncEpoch();
          if (this.point === undefined) await this.load();
          synced = true;
          this.markSynced();
          await this.keepFrom();
          if (attempt > 0) this.log.info({ redis: this.where() }, "Redis is back; tailing resumes");
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
        const { next, lost } = checkRead(point, read);
        this.point = next;
        if (read.entries.length > 0 || lost !== undefined) this.take(read.entries, lost);
        if (read.entries.length < READ_COUNT) {
          // caught up: wait (at most 1 s, then look at the epoch again) for an entry after it
          await this.reader.sendCommand([
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
        this.notReadyReason = `Redis at ${this.where()} is unreachable: ${(error as Error).message}`;
        if (attempt === 0) this.log.warn({ err: error }, "lost Redis; retrying with backoff");
        await sleep(backoffMs(attempt++));
      }
    }
  }

  private async read(mode: "tail" | "load", after: string, count: number): Promise<StreamRead> {
    const reply = await this.reader.sendCommand([
      "EVAL",
      READ_SCRIPT,
      "2",
      this.keys.log,
      this.keys.epoch,
      mode,
      after,
      String(count),
    ]);
    return parseRead(reply);
  }

  private async syncEpoch(): Promise<void> {
    const candidate = randomBytes(5).toString("hex");
    await this.reader.sendCommand(["SET", this.keys.epoch, candidate, "NX"]);
    const epoch = (await this.reader.sendCommand(["GET", this.keys.epoch])) as unknown as string;
    if (this.epoch !== undefined && this.epoch !== epoch) this.point = undefined;
    this.adoptEpoch(epoch);
  }

  /**
   * Loads the newest `history.maxEvents` entries into the history (the first start, or a new
   * epoch); the tail continues after the newest entry ever added.
   */
  private async load(): Promise<void> {
    const read = await this.read("load", "0-0", this.options.history.maxEvents);
    if (read.epoch !== this.epoch) throw new Error("the log changed while it was loaded");
    if (read.added === undefined && !this.warnedOldRedis) {
      this.warnedOldRedis = true;
      this.log.warn(
        { redis: this.where() },
        "Redis is older than 7.0: an entry deleted with XDEL before this node read it goes unnoticed, and a trim right after the last entry read may be reported as a gap; use Redis 7",
      );
    }
    this.point = { lastId: read.lastGenerated, ordinal: read.added };
    this.beginLoad();
    try {
      this.take(read.entries.reverse());
    } finally {
      this.endLoad();
    }
  }

  /**
   * Records in Redis the oldest entry this node still needs (its oldest held event, else the last
   * entry read) and trims the stream to the oldest one every live node needs (redis-retention.ts).
   */
  private async keepFrom(): Promise<void> {
    if (this.beating || this.closed || this.point === undefined || !this.writer.isReady) return;
    this.beating = true;
    try {
      const oldest = this.history.oldest();
      const keep =
        oldest === undefined
          ? this.point.lastId
          : `${Math.floor(oldest.pos / SEQ_PER_MS)}-${oldest.pos % SEQ_PER_MS}`;
      await this.writer.sendCommand([
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

  private take(raw: readonly RawEntry[], lost?: LostEntries): void {
    const entries: LogEntry[] = [];
    for (const [streamId, fields] of raw) {
      const pos = streamIdToPos(streamId);
      if (pos === undefined) {
        this.log.error(
          { streamId },
          "skipped a stream entry: its id maps to no position (more than 1024 entries in one millisecond?); XADD with *",
        );
        continue;
      }
      entries.push({ pos, time: msOf(streamId), ...parseFields(fields) });
    }
    this.deliverEntries(entries, lost);
  }
}
