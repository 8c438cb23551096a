import { Connection, type Publisher } from "rabbitmq-client";
import type { PresenceChannel, PresenceMessage } from "../channel.ts";

/** The fanout exchange of presence messages. */
export const PRESENCE_EXCHANGE = "herald.presence";

/**
 * Presence over RabbitMQ: a fanout exchange (`herald.presence`), one exclusive auto-deleted queue
 * per node bound to it (never the event log's stream). Messages are not persistent: a broker
 * restart drops them, the next snapshots (one heartbeat) restore the counts. The lead is not
 * taken here: on RabbitMQ the node with the lowest id among those alive leads
 * (presence/lowest-leads.ts).
 */
export class RabbitPresence implements PresenceChannel {
  private readonly rabbit: Connection;
  private readonly publisher: Publisher;
  private consumer: ReturnType<Connection["createConsumer"]> | undefined;

  constructor(
    url: string,
    /** This node's id, set once its `Presence` is built (before `start`). */
    private readonly node: { readonly id: string },
    onError: (error: Error) => void,
  ) {
    this.rabbit = new Connection({ url, connectionName: "herald-presence", retryLow: 200, retryHigh: 5000 });
    this.rabbit.on("error", onError);
    this.publisher = this.rabbit.createPublisher({
      maxAttempts: 1,
      exchanges: [{ exchange: PRESENCE_EXCHANGE, type: "fanout" }],
    });
  }

  async start(listener: (message: PresenceMessage) => void): Promise<void> {
    const queue = `herald.presence.${this.node.id}`;
    this.consumer = this.rabbit.createConsumer(
      {
        queue,
        queueOptions: { exclusive: true, autoDelete: true },
        exchanges: [{ exchange: PRESENCE_EXCHANGE, type: "fanout" }],
        queueBindings: [{ exchange: PRESENCE_EXCHANGE, queue }],
        noAck: true,
      },
      (message) => {
        try {
          const body = message.body;
          const text =
            typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString() : JSON.stringify(body);
          listener(JSON.parse(text) as PresenceMessage);
        } catch {
          // not a presence message: ignored
        }
      },
    );
  }

  /** The connection is up (`PresenceChannel.hearing`; the consumer follows it). */
  get hearing(): boolean {
    return this.rabbit.ready;
  }

  send(message: PresenceMessage): void {
    this.publisher
      .send({ exchange: PRESENCE_EXCHANGE, routingKey: "" }, JSON.stringify(message))
      .catch(() => {});
  }

  async close(): Promise<void> {
    await this.consumer?.close().catch(() => {});
    await this.publisher.close().catch(() => {});
    await this.rabbit.close().catch(() => {});
  }
}
