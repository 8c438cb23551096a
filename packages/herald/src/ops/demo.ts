import type { Hub } from "../core/hub.ts";
import type { Logger } from "./logger.ts";

/** The topic the demo feed publishes on. */
export const DEMO_TOPIC = "prices";

const SYMBOLS = [
  { symbol: "HRLD", price: 42 },
  { symbol: "SSE", price: 17.5 },
  { symbol: "NODE", price: 20.2 },
];

/**
 * The demo feed (`herald --demo`): one price tick a second on topic `prices`, as JSON
 * `{"message","symbol","price","change","time"}`, a random walk over a few made-up symbols. It goes through
 * the hub like any publish (history, replay, metrics). Returns a function that stops it.
 * Events have the default type (`message`) and a `message` field, so the seed's client
 * (`Message: {{messageData?.message}}`) and a plain EventSource show them as they are.
 */
export function startDemoFeed(hub: Hub, log: Logger, intervalMs = 1000): () => void {
  const prices = SYMBOLS.map((s) => ({ ...s }));
  let n = 0;
  const timer = setInterval(() => {
    const item = prices[n++ % prices.length]!;
    const change = Math.round(item.price * (Math.random() - 0.5) * 0.02 * 100) / 100;
    item.price = Math.max(0.01, Math.round((item.price + change) * 100) / 100);
    const sign = change >= 0 ? "+" : "";
    const data = JSON.stringify({
      message: `${item.symbol} ${item.price.toFixed(2)} (${sign}${change.toFixed(2)})`,
      symbol: item.symbol,
      price: item.price,
      change,
      time: new Date().toISOString(),
    });
    hub.publish([{ topics: [DEMO_TOPIC], data }]).catch((error: unknown) => {
      log.debug({ err: error }, "demo feed: publish refused");
    });
  }, intervalMs);
  timer.unref();
  log.info({ topic: DEMO_TOPIC }, "demo feed on: a price tick every second");
  return () => clearInterval(timer);
}
