/**
 * A producer that publishes straight to RabbitMQ, with no HTTP: every node of Herald (run with
 * `--bus amqp://...`) delivers its ticks to the subscribers of `prices/<SYMBOL>` (docs/buses.md).
 *
 *   node --import tsx examples/price-ticker.ts [amqp://guest:guest@127.0.0.1:5672] [--count N] [--interval ms]
 *   curl -N 'http://127.0.0.1:8080/events?topic=prices/*'
 *
 * Wire format: exchange `herald` (topic, durable), routing key = the topic, body = the event's
 * data (UTF-8), `type` = the SSE event type, `messageId` = the SSE id (a retry with the same id is
 * delivered once), persistent, with publisher confirms.
 */
import { parseArgs } from "node:util";
import { Connection } from "rabbitmq-client";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: "string" }, interval: { type: "string", default: "1000" } },
});
const url = positionals[0] ?? process.env.HERALD_BUS ?? "amqp://guest:guest@127.0.0.1:5672";
const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
const interval = Number(values.interval);

const rabbit = new Connection(url);
rabbit.on("error", (error) => console.error("price-ticker: RabbitMQ:", error.message));
const publisher = rabbit.createPublisher({
  confirm: true,
  maxAttempts: 3,
  exchanges: [{ exchange: "herald", type: "topic", durable: true }],
});

const prices: Record<string, number> = { EURUSD: 1.0812, GBPUSD: 1.2634, USDJPY: 151.42 };
const run = Date.now().toString(36);
let sent = 0;

async function tick(): Promise<void> {
  for (const symbol of Object.keys(prices)) {
    const price = (prices[symbol] as number) * (1 + (Math.random() - 0.5) / 1000);
    prices[symbol] = price;
    await publisher.send(
      {
        exchange: "herald",
        routingKey: `prices/${symbol}`,
        type: "price",
        messageId: `tick-${run}-${sent}-${symbol}`,
        contentType: "application/json",
        durable: true,
      },
      { symbol, price: Number(price.toFixed(5)), time: new Date().toISOString() },
    );
  }
  sent++;
  console.log(`price-ticker: tick ${sent} confirmed`);
}

while (sent < count) {
  await tick().catch((error: Error) => console.error("price-ticker: not confirmed:", error.message));
  if (sent < count) await new Promise((resolve) => setTimeout(resolve, interval));
}
await publisher.close();
await rabbit.close();
