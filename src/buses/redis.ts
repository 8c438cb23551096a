import { randomBytes } from "node:crypto";
import { createClient, ErrorReply, type RedisClientType } from "redis";
import type { AppendResult, BusStatus } from "../core/bus.ts";
import { HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { formatHubId, parseHubId } from "../core/ids.ts";
import { LogBus, type LogBusOptions, type LogEntry } from "./log-bus.ts";
import { msOf, PUBLISH_SCRIPT, parseFields, type RawEntry, streamIdToPos } from "./redis-log.ts";
import { backoffMs, sleep, unavailable } from "./retry.ts";

export interface RedisBusOptions extends LogBusOptions {
  /** redis://[user:pass@]host:port[/db] */
  readonly url: string;
  /** Prefix of Herald's keys (default `herald`): `<prefix>:log` is the stream producers XADD to. */
  readonly keyPrefix?: string;
}

type Client = RedisClientType;

/**
 * The Redis bus: the log is a Redis stream (`XADD ... MAXLEN ~`, read back with `XREVRANGE` at start
 * and tailed with `XREAD BLOCK` on a second connection); the epoch is a key beside it, so a flushed
 * or lost Redis is recognised. Publishes go through one Lua script (atomic id deduplication) and
 * answer once Redis replied; for the guarantee to survive a Redis crash, run Redis with
 * `appendonly yes` and `appendfsync always`.
 * When Redis is unreachable, appends reject with `unavailable` at once (no offline queue), the tail
 * retries with backoff and resumes after the last stream id it delivered.
 */
export class RedisBus extends LogBus {
  private readonly writer: Client;
  private readonly reader: Client;
  private readonly keys: { log: string; ids: string; idPos: string; epoch: string };
  /** The stream id the tail continues after; undefined = load the history first. */
  private lastId: string | undefined;
  private loop: Promise<void> | undefined;
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
    };
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
  }

  protected async disconnect(): Promise<void> {
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
    const args: string[] = [String(this.options.history.maxEvents), randomBytes(5).toString("hex")];
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
          if (this.lastId === undefined) await this.load();
          synced = true;
          this.markSynced();
          if (attempt > 0) this.log.info({ redis: this.where() }, "Redis is back; tailing resumes");
          attempt = 0;
        }
        const reply = (await this.reader.sendCommand([
          "XREAD",
          "COUNT",
          "1000",
          "BLOCK",
          "1000",
          "STREAMS",
          this.keys.log,
          this.lastId ?? "0-0",
        ])) as [string, RawEntry[]][] | null;
        // A flushed Redis keeps the connection: check the epoch before delivering what was read, so
        // no entry of a new log is delivered under the old epoch (one GET per batch or idle second).
        const epoch = (await this.reader.sendCommand(["GET", this.keys.epoch])) as unknown as string | null;
        if (epoch !== this.epoch) {
          synced = false;
          continue;
        }
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length > 0) this.take(entries);
      } catch (error) {
        if (this.closed) return;
        synced = false;
        this.notReadyReason = `Redis at ${this.where()} is unreachable: ${(error as Error).message}`;
        if (attempt === 0) this.log.warn({ err: error }, "lost Redis; retrying with backoff");
        await sleep(backoffMs(attempt++));
      }
    }
  }

  private async syncEpoch(): Promise<void> {
    const candidate = randomBytes(5).toString("hex");
    await this.reader.sendCommand(["SET", this.keys.epoch, candidate, "NX"]);
    const epoch = (await this.reader.sendCommand(["GET", this.keys.epoch])) as unknown as string;
    if (this.epoch !== undefined && this.epoch !== epoch) this.lastId = undefined;
    this.adoptEpoch(epoch);
  }

  /** Loads the newest `history.maxEvents` entries (the history after a restart of every node). */
  private async load(): Promise<void> {
    const newest = (await this.reader.sendCommand([
      "XREVRANGE",
      this.keys.log,
      "+",
      "-",
      "COUNT",
      String(this.options.history.maxEvents),
    ])) as RawEntry[];
    this.lastId = "0-0";
    this.take(newest.reverse());
  }

  private take(raw: readonly RawEntry[]): void {
    const entries: LogEntry[] = [];
    for (const [streamId, fields] of raw) {
      this.lastId = streamId;
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
    this.deliverEntries(entries);
  }
}
