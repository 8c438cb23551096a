import { randomBytes } from "node:crypto";
import { type AsyncMessage, type Channel, Connection, type Publisher } from "rabbitmq-client";
import type { AppendResult, BusStatus } from "../core/bus.ts";
import { HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { LogBus, type LogBusOptions } from "./log-bus.ts";
import { bodyText, RABBIT_HEADERS, rabbitNames, STREAM_ARGUMENTS, toEntry } from "./rabbitmq-wire.ts";
import { backoffMs, sleep, unavailable } from "./retry.ts";

export interface RabbitMqBusOptions extends LogBusOptions {
  /** amqp://user:pass@host:port/vhost */
  readonly url: string;
  /** Prefix of the exchange and queue names (default `herald`: exchange `herald`, `herald.log`, `herald.epoch`). */
  readonly prefix?: string;
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
 */
export class RabbitMqBus extends LogBus {
  private readonly rabbit: Connection;
  private readonly publisher: Publisher;
  private tailChannel: Channel | undefined;
  private consuming = false;
  private setup: Promise<void> = Promise.resolve();
  private attempt = 0;
  private readonly names: ReturnType<typeof rabbitNames>;
  /** The last connection error, for /readyz (the connection retries by itself). */
  private lastError = "connecting";

  constructor(private readonly rabbitOptions: RabbitMqBusOptions) {
    super(rabbitOptions);
    this.names = rabbitNames(rabbitOptions.prefix);
    this.rabbit = new Connection({
      url: rabbitOptions.url,
      acquireTimeout: 5000,
      connectionTimeout: 5000,
      retryLow: 200,
      retryHigh: 5000,
      connectionName: "herald",
    });
    this.rabbit.on("error", (error: Error) => {
      this.lastError = error.message;
    });
    this.rabbit.on("connection", () => this.resubscribe());
    this.publisher = this.rabbit.createPublisher({
      confirm: true,
      maxAttempts: 1,
      exchanges: [{ exchange: this.names.exchange, type: "topic", durable: true }],
      queues: [{ queue: this.names.stream, durable: true, arguments: STREAM_ARGUMENTS }],
      queueBindings: [{ exchange: this.names.exchange, queue: this.names.stream, routingKey: "#" }],
    });
  }

  override status(): BusStatus {
    if (this.closed) return super.status();
    if (!this.rabbit.ready) {
      return { ready: false, reason: `RabbitMQ at ${this.where()} is unreachable: ${this.lastError}` };
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
      const sent = this.publisher.send(
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
      );
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
    const url = new URL(this.rabbitOptions.url);
    return `${url.hostname}:${url.port || "5672"}`;
  }

  /** (Re)starts the tail after a (re)connection; runs one setup at a time. */
  private resubscribe(): void {
    this.consuming = false;
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
    const previous = this.tailChannel;
    this.tailChannel = undefined; // its late messages and its "close" are ignored from here on
    await previous?.close().catch(() => undefined);
    const epoch = await this.readEpoch();
    this.adoptEpoch(epoch);
    const ch = await this.rabbit.acquire();
    this.tailChannel = ch;
    await ch.exchangeDeclare({ exchange: this.names.exchange, type: "topic", durable: true });
    await ch.queueDeclare({ queue: this.names.stream, durable: true, arguments: STREAM_ARGUMENTS });
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
    await ch.basicConsume(
      { queue: this.names.stream, noAck: false, arguments: { "x-stream-offset": offset } },
      (msg) => this.onMessage(ch, msg),
    );
    await this.syncToHead();
    this.consuming = true;
    this.markSynced();
    this.log.info({ rabbitmq: this.where(), offset }, "tailing the RabbitMQ stream");
  }

  /**
   * Waits until the tail has read the whole log as it was when this was called: AMQP gives no head
   * offset for a stream, so the node appends a marker and waits to read it back (bounded).
   */
  private async syncToHead(): Promise<void> {
    const token = randomBytes(8).toString("hex");
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
    this.deliverEntries([toEntry(offset + 1, msg)]);
  }
}
