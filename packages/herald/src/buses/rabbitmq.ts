import { randomBytes } from "node:crypto";
import { type AsyncMessage, type Channel, Connection, type Publisher } from "rabbitmq-client";
import type { AppendResult, BusStatus } from "../core/bus.ts";
import { HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { type AmqpTarget, parseAmqpUrl } from "./amqp-url.ts";
import { LIVE_FROM_WAIT_MS, LogBus, type LogBusOptions, type LogEntry, type LostEntries } from "./log-bus.ts";
import { OutageLog } from "./outage-log.ts";
import { bodyText, RABBIT_HEADERS, rabbitNames, streamArguments, toEntry } from "./rabbitmq-wire.ts";
import { backoffMs, sleep, unavailable } from "./retry.ts";

export interface RabbitMqBusOptions extends LogBusOptions {
  /**
   * amqp://user:pass@host:port/vhost, or amqp://user:pass@host:port,host:port,host:port/vhost for
   * the nodes of a cluster (src/buses/amqp-url.ts).
   */
  readonly url: string;
  /** Prefix of the exchange and queue names (default `herald`: exchange `herald`, `herald.log`, `herald.epoch`). */
  readonly prefix?: string;
  /**
   * The stream's retention and segment size in bytes (default 200 MB and 10 MB). The same on every
   * node, for the life of the stream (RabbitMQ refuses a declaration with other arguments).
   */
  readonly streamBytes?: { readonly maxBytes: number; readonly segmentBytes: number };
}

/**
 * The RabbitMQ bus: the log is a stream queue fed by a topic exchange that HTTP publishes and
 * direct producers both publish to. Every node consumes the stream with `x-stream-offset` (from
 * `first` at start, then after the last offset it delivered on every reconnect); a position is the
 * stream offset + 1. The epoch lives in a one-message queue beside the stream (`x-max-length` 1,
 * `reject-publish`: the first epoch published stays), so a wiped broker is recognised.
 * Publishes use publisher confirms: an append resolves only once RabbitMQ confirmed, and then
 * waits (bounded) until this node's tail delivered the event, which gives its position and id.
 * Deduplication of publisher ids (per publisher scope, carried in the `x-herald-scope` header) is
 * checked against the history before publishing and again when tailing (a retry that raced into
 * the log is skipped on every node).
 * Gaps: the stream's retention (bytes) drops the oldest segments whoever has read them, and a
 * consumer that lags past them skips ahead silently. Offsets are not contiguous either: RabbitMQ
 * gives one to a chunk of its own at the start of each segment (seen on 3.10), and more to offset
 * tracking chunks of stream-protocol clients. A skip of one offset is such a chunk: dropped
 * segments skip at least three (each held a message and RabbitMQ's chunk, and the segment landed
 * on starts with one). On a longer skip the node looks at the stream's first message now (a short
 * consumer from `first`): before the message after the skip, the skipped offsets are still held and
 * are none of ours; otherwise the oldest segments went past this node's place and the skipped
 * offsets count as lost (a gap; RabbitMQ cannot tell whether they held messages, so a node exactly
 * at the retention's edge may be told of a gap that lost nothing). Messages wait in order meanwhile.
 * A cluster (several nodes in the URL): the connection goes to one node and, when it is lost, to
 * the next (rabbitmq-client's `hosts`); the tail resumes after the last offset it delivered. The
 * stream is replicated on the cluster's nodes (RabbitMQ's default for a stream: a member on every
 * node) and confirms a publish once a majority of them wrote it. The epoch is then the first
 * message of a second stream (`<prefix>.epoch-stream`, replicated too), not a classic queue, which
 * would live on one node only.
 */
export class RabbitMqBus extends LogBus {
  private readonly rabbit: Connection;
  private readonly publisher: Publisher;
  private tailChannel: Channel | undefined;
  private consuming = false;
  /** Setups asked for (`resubscribe`): a setup that sees this change while it runs is stale. */
  private setups = 0;
  private setup: Promise<void> = Promise.resolve();
  private attempt = 0;
  private readonly names: ReturnType<typeof rabbitNames>;
  private readonly streamArgs: ReturnType<typeof streamArguments>;
  /** Messages received and not yet delivered, in order (they wait while a jump is checked). */
  private incoming: { ch: Channel; entry: LogEntry }[] = [];
  private draining = false;
  /** False until the first message of a subscription from `first` (the log's start is no jump). */
  private checkJumps = false;
  /** The last connection error, for /readyz (the connection retries by itself). */
  private lastError = "connecting";
  private readonly target: AmqpTarget;
  /** An outage logged once, and its end (buses/outage-log.ts). */
  private readonly outage: OutageLog;

  constructor(rabbitOptions: RabbitMqBusOptions) {
    super(rabbitOptions);
    this.target = parseAmqpUrl(rabbitOptions.url);
    this.outage = new OutageLog(this.log, `RabbitMQ at ${this.where()}`, { rabbitmq: this.where() });
    this.names = rabbitNames(rabbitOptions.prefix);
    this.streamArgs = streamArguments(rabbitOptions.streamBytes);
    this.rabbit = new Connection({
      url: this.target.url,
      ...(this.target.hosts.length > 1 ? { hosts: [...this.target.hosts] } : {}),
      acquireTimeout: 5000,
      connectionTimeout: 5000,
      retryLow: 200,
      retryHigh: 5000,
      connectionName: "herald",
    });
    this.rabbit.on("error", (error: Error) => {
      this.lastError = error.message;
      // at start or later: the connection retries by itself, and says so once
      if (!this.closed && !this.rabbit.ready) this.outage.unreachable(this.unreachableReason());
    });
    this.rabbit.on("connection", () => {
      this.outage.reachable();
      this.resubscribe();
    });
    this.publisher = this.rabbit.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [{ exchange: this.names.exchange, type: "topic", durable: true }],
      queues: [{ queue: this.names.stream, durable: true, arguments: this.streamArgs }],
      queueBindings: [{ exchange: this.names.exchange, queue: this.names.stream, routingKey: "#" }],
    });
  }

  override status(): BusStatus {
    if (this.closed) return super.status();
    if (!this.rabbit.ready) {
      return { ready: false, reason: this.unreachableReason() };
    }
    const status = super.status();
    if (status.ready && !this.consuming) {
      return { ready: false, reason: `RabbitMQ at ${this.where()}: catching up with the stream` };
    }
    return status;
  }

  protected async connect(): Promise<void> {
    // The "connection" event starts the tail; nothing to wait for (a broker that is down is retried).
  }

  protected async disconnect(): Promise<void> {
    await this.setup;
    await this.tailChannel?.close().catch(() => undefined);
    await this.publisher.close().catch(() => undefined);
    await this.rabbit.close().catch(() => undefined);
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    this.checkIds(inputs);
    if (!this.rabbit.ready) throw unavailable(`RabbitMQ at ${this.where()}`);
    const sends = inputs.map((input) => {
      const held = this.history.retryOf(input);
      if (held !== undefined)
        return { token: "", delivered: Promise.resolve({ event: held, duplicate: true }) };
      const token = randomBytes(8).toString("hex");
      const delivered = this.waitForToken(token);
      const headers: Record<string, unknown> = {
        [RABBIT_HEADERS.topicsJson]: JSON.stringify(input.topics),
        [RABBIT_HEADERS.token]: token,
        [RABBIT_HEADERS.time]: Date.now(),
      };
      if (input.retry !== undefined) headers[RABBIT_HEADERS.retry] = input.retry;
      if (input.private === true) headers[RABBIT_HEADERS.private] = true;
      if (input.scope !== undefined) headers[RABBIT_HEADERS.scope] = input.scope;
      // each confirm counts as progress: the wait for the tail starts once the broker has it
      const sent = this.publisher
        .send(
          {
            exchange: this.names.exchange,
            routingKey: input.topics[0] ?? "",
            messageId: input.id,
            type: input.type,
            durable: true,
            contentType: "text/plain",
            headers,
          },
          Buffer.from(input.data, "utf8"),
        )
        .then(() => this.confirmed());
      return { token, delivered, sent };
    });
    try {
      await Promise.all(sends.map((s) => s.sent));
    } catch (error) {
      for (const s of sends) if (s.token !== "") this.forgetToken(s.token);
      throw unavailable(`RabbitMQ at ${this.where()}`, error);
    }
    const results: AppendResult[] = [];
    for (const s of sends) {
      const result = await s.delivered;
      if (result === undefined) {
        throw new HeraldError(
          "unavailable",
          "RabbitMQ confirmed the event but this node has not received it back yet; retry with the same id",
          { retryAfterSeconds: 1 },
        );
      }
      results.push(result);
    }
    return results;
  }

  private where(): string {
    return this.target.hosts.join(",");
  }

  private unreachableReason(): string {
    return `RabbitMQ at ${this.where()} is unreachable: ${this.lastError}`;
  }

  /** (Re)starts the tail after a (re)connection; runs one setup at a time. */
  private resubscribe(): void {
    this.consuming = false;
    this.setups++;
    this.setup = this.setup.then(() => this.subscribeWithRetry());
  }

  private async subscribeWithRetry(): Promise<void> {
    while (!this.closed && this.rabbit.ready && !this.consuming) {
      try {
        await this.subscribe();
        this.attempt = 0;
      } catch (error) {
        if (this.closed) return;
        this.notReadyReason = `RabbitMQ at ${this.where()}: cannot tail the stream: ${(error as Error).message}`;
        this.log.warn({ err: error }, "cannot tail the RabbitMQ stream; retrying");
        await sleep(backoffMs(this.attempt++));
      }
    }
  }

  private async subscribe(): Promise<void> {
    const setup = this.setups;
    const previous = this.tailChannel;
    this.tailChannel = undefined; // its late messages and its "close" are ignored from here on
    await previous?.close().catch(() => undefined);
    const epoch = await this.readEpoch();
    this.adoptEpoch(epoch);
    const ch = await this.rabbit.acquire();
    this.tailChannel = ch;
    await ch.exchangeDeclare({ exchange: this.names.exchange, type: "topic", durable: true });
    await ch.queueDeclare({ queue: this.names.stream, durable: true, arguments: this.streamArgs });
    await ch.queueBind({ exchange: this.names.exchange, queue: this.names.stream, routingKey: "#" });
    await ch.basicQos({ prefetchCount: 1000 });
    ch.on("basic.cancel", () => {
      // the stream was deleted under us: set up again (a new stream and epoch queue mean a new epoch)
      if (this.tailChannel === ch && !this.closed) void ch.close().catch(() => undefined);
    });
    ch.on("close", () => {
      if (this.tailChannel !== ch || this.closed) return;
      this.consuming = false;
      // The connection's "connection" event resubscribes after a reconnect; a channel closed on a
      // live connection (e.g. the stream was deleted) is resubscribed here.
      if (this.rabbit.ready) this.resubscribe();
    });
    const offset = this.headPos === 0 ? "first" : this.headPos; // headPos = last offset + 1
    // from an offset, the first message must be the next one; from `first`, anything is the start
    this.checkJumps = this.headPos > 0;
    const syncToken = randomBytes(8).toString("hex");
    // from `first`: the log up to this node's marker is a load (history), not live events
    if (offset === "first") this.beginLoad(syncToken);
    await ch.basicConsume(
      { queue: this.names.stream, noAck: false, arguments: { "x-stream-offset": offset } },
      (msg) => this.onMessage(ch, msg),
    );
    await this.syncToHead(syncToken);
    // A tail whose channel closed, or whose connection came back, while it was set up is dead
    // (its "close" asked for a new setup, which would find `consuming` and do nothing): set up
    // again.
    if (this.setups !== setup || this.tailChannel !== ch || !ch.active) {
      throw new Error("the tail's channel closed while it was being set up");
    }
    this.consuming = true;
    this.markSynced();
    this.log.info({ rabbitmq: this.where(), offset }, "tailing the RabbitMQ stream");
  }

  /**
   * Waits until the tail has read the whole log as it was when this was called: AMQP gives no head
   * offset for a stream, so the node appends a marker and waits to read it back (bounded).
   */
  private async syncToHead(token: string): Promise<void> {
    const seen = this.waitForToken(token);
    await this.publisher.send(
      {
        exchange: this.names.exchange,
        routingKey: "herald.sync",
        durable: true,
        headers: { [RABBIT_HEADERS.control]: "sync", [RABBIT_HEADERS.token]: token },
      },
      "",
    );
    await seen;
  }

  /** Reads the log's epoch; the first node to find none stores its own. */
  private async readEpoch(): Promise<string> {
    if (this.target.hosts.length > 1) return this.readEpochStream();
    const ch = await this.rabbit.acquire();
    try {
      await ch.queueDeclare({
        queue: this.names.epoch,
        durable: true,
        arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
      });
      await ch.confirmSelect();
      const candidate = randomBytes(5).toString("hex");
      await ch
        .basicPublish({ routingKey: this.names.epoch, durable: true, contentType: "text/plain" }, candidate)
        .catch(() => undefined); // refused when an epoch is already held: that one wins
      const msg = await ch.basicGet({ queue: this.names.epoch, noAck: false });
      if (msg === undefined) throw new Error(`queue ${this.names.epoch} is empty`);
      ch.basicNack({ deliveryTag: msg.deliveryTag, requeue: true });
      return bodyText(msg.body);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /**
   * On a cluster: the epoch is the first message of a stream (replicated like the log). A node that
   * finds it empty (nothing within 1 s) appends its own candidate; whichever came first wins, on
   * every node.
   */
  private async readEpochStream(): Promise<string> {
    const ch = await this.rabbit.acquire();
    try {
      await ch.queueDeclare({
        queue: this.names.epochStream,
        durable: true,
        arguments: { "x-queue-type": "stream" },
      });
      await ch.basicQos({ prefetchCount: 1 });
      let resolveFirst: (epoch: string) => void = () => {};
      const first = new Promise<string>((resolve) => {
        resolveFirst = resolve;
      });
      await ch.basicConsume(
        { queue: this.names.epochStream, noAck: false, arguments: { "x-stream-offset": "first" } },
        (msg) => resolveFirst(bodyText(msg.body)),
      );
      const none = Symbol("none");
      const early = await Promise.race([first, sleep(1000).then(() => none)]);
      if (early !== none) return early as string;
      await this.publisher.send(
        { exchange: "", routingKey: this.names.epochStream, durable: true, contentType: "text/plain" },
        randomBytes(5).toString("hex"),
      );
      const epoch = await Promise.race([first, sleep(5000).then(() => none)]);
      if (epoch === none) throw new Error(`no epoch could be read from the stream ${this.names.epochStream}`);
      return epoch as string;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  private onMessage(ch: Channel, msg: AsyncMessage): void {
    try {
      ch.basicAck({ deliveryTag: msg.deliveryTag });
    } catch {
      // the channel closed meanwhile: a new subscription reads on from the last delivered offset
    }
    if (this.tailChannel !== ch) return;
    const headers = msg.headers ?? {};
    const offset = Number(headers["x-stream-offset"]);
    if (!Number.isSafeInteger(offset)) return;
    this.incoming.push({ ch, entry: toEntry(offset + 1, msg) });
    if (!this.draining) void this.drain();
  }

  /** Delivers received messages in order; on an offset jump, waits for `lostBefore` first. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.incoming.shift(); next !== undefined; next = this.incoming.shift()) {
        const { ch, entry } = next;
        if (this.tailChannel !== ch || entry.pos <= this.headPos) continue;
        let lost: LostEntries | undefined;
        if (this.checkJumps && entry.pos > this.headPos + 2) {
          lost = await this.lostBefore(entry.pos);
          if (this.tailChannel !== ch || this.closed) continue; // resubscribed meanwhile: read again
        }
        this.checkJumps = true;
        this.deliverEntries([entry], lost);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * The offsets before position `pos` and after the last delivered one were skipped: lost when the
   * stream's first message now is at or after `pos` (its oldest segments went past this node),
   * none of ours when it is before (RabbitMQ's own chunks). Unknown (no answer): lost.
   */
  private async lostBefore(pos: number): Promise<LostEntries | undefined> {
    const first = await this.firstOffset().catch(() => undefined);
    if (first !== undefined && first + 1 < pos) return undefined;
    return { pos: pos - 1, count: pos - 1 - this.headPos };
  }

  /**
   * The newest position the stream holds now, at least (`LogBus.liveHead`): a short consumer from
   * `last` (AMQP tells no stream head; RabbitMQ starts it at the stream's last chunk) takes what
   * arrives until 20 ms pass without a message. Every message it saw was stored before the answer,
   * so a stream that opens after it loses nothing; one stored meanwhile and not seen is delivered
   * to it (at worst the rest of a large last chunk). Undefined for an empty stream or no answer.
   */
  protected override async newestPos(): Promise<number | undefined> {
    if (!this.rabbit.ready || !this.consuming) return undefined;
    const ch = await this.rabbit.acquire();
    try {
      await ch.basicQos({ prefetchCount: 1000 });
      let newest: number | undefined;
      let seenAt = 0;
      /** Timer turns since the last message: the socket was read in between (poll phase). */
      let quietTurns = 0;
      await ch.basicConsume(
        { queue: this.names.stream, noAck: false, arguments: { "x-stream-offset": "last" } },
        (msg) => {
          const offset = Number(msg.headers?.["x-stream-offset"]);
          if (Number.isSafeInteger(offset) && (newest === undefined || offset + 1 > newest))
            newest = offset + 1;
          seenAt = Date.now();
          quietTurns = 0;
        },
      );
      // quiet means 20 ms AND 4 turns with nothing new: after a long busy turn (a node catching
      // up), a timer runs before the socket's waiting messages are read, and 20 ms alone would
      // end the read on a stale `seenAt`
      for (const until = Date.now() + LIVE_FROM_WAIT_MS; Date.now() < until && !this.closed; ) {
        await sleep(5);
        quietTurns++;
        if (newest !== undefined && quietTurns >= 4 && Date.now() - seenAt >= 20) break;
      }
      return newest;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** The offset of the stream's first message, read by a short consumer from `first` (5 s at most). */
  private async firstOffset(): Promise<number | undefined> {
    const ch = await this.rabbit.acquire();
    try {
      await ch.basicQos({ prefetchCount: 1 });
      return await new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 5000);
        timer.unref();
        ch.basicConsume(
          { queue: this.names.stream, noAck: false, arguments: { "x-stream-offset": "first" } },
          (msg) => {
            clearTimeout(timer);
            resolve(Number(msg.headers?.["x-stream-offset"]));
          },
        ).catch(() => resolve(undefined));
      });
    } finally {
      await ch.close().catch(() => undefined);
    }
  }
}
