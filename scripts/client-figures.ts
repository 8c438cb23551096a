// Measures the client SDK against a local Herald: how fast one subscriber (fetch transport) takes in
// events, and how long a resume takes after the server restarts on the same port.
// Usage: node --import tsx scripts/client-figures.ts [events=20000]
import { publish, subscribe } from "../packages/herald-client/src/index.ts";
import { portOf, SurvivingBus, startHeraldOn } from "../test/helpers/restart.ts";
import { until } from "../test/helpers/waiters.ts";

const total = Number(process.argv[2] ?? 20_000);
const bus = new SurvivingBus();
let herald = await startHeraldOn(0, bus, { retryMs: 100 });
let received = 0;
const sub = subscribe({ url: herald.url, topics: "bench", onEvent: () => received++ });
await until(() => sub.state === "open", "open");

const inputs = Array.from({ length: total }, (_, i) => ({
  topics: ["bench"],
  data: JSON.stringify({ i, pad: "x".repeat(100) }),
}));
const t0 = performance.now();
for (let i = 0; i < total; i += 100) {
  await herald.hub.publish(inputs.slice(i, i + 100));
  await new Promise((resolve) => setImmediate(resolve)); // let the socket drain, as real publishers do
}
await until(() => received === total, "every event", 120_000);
const seconds = (performance.now() - t0) / 1000;
console.log(`slow disconnects meanwhile: ${herald.hub.counters.slowDisconnects} (each followed by a resume)`);
console.log(
  `${total} events (~120 B of data each) received by one SDK subscriber in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} events/s`,
);

const port = portOf(herald);
await herald.close();
await bus.append([{ topics: ["bench"], data: "while down" }]);
const t1 = performance.now();
herald = await startHeraldOn(port, bus, { retryMs: 100 });
await until(() => received === total + 1, "the replayed event");
console.log(
  `restart -> replayed event received: ${Math.round(performance.now() - t1)} ms (server retry: 100 ms)`,
);
await publish({ url: herald.url, topic: "bench", data: "live" });
await until(() => received === total + 2, "live event");
sub.close();
await herald.close();
