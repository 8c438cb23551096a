// A Node consumer of herald-client as installed from its tarball: no loader, no flag. It subscribes
// twice to one topic (the SDK's async iterator, and herald-client/rx's Observable), publishes two
// events with the publisher token HERALD_TOKEN to the Herald at HERALD_URL, and prints as JSON
// what each subscription received. It must then exit by itself (no handle left open).
import { publish, subscribe } from "herald-client";
import { fromHerald } from "herald-client/rx";
import { firstValueFrom } from "rxjs";

const url = process.env.HERALD_URL;
const token = process.env.HERALD_TOKEN;
const topic = `consumers/node-${process.versions.node}/esm`;

const opens = [];
/** An onStateChange callback; `opens` gets a promise that resolves once that stream is open. */
function whenOpen() {
  let opened;
  opens.push(new Promise((resolve) => (opened = resolve)));
  return ({ state }) => state === "open" && opened();
}

const stream = subscribe({ url, topics: [topic], onStateChange: whenOpen() });
const firstOnRx = firstValueFrom(fromHerald({ url, topics: topic, onStateChange: whenOpen() }));
await Promise.all(opens);

const published = [];
for (const n of [1, 2]) {
  const answer = await publish({ url, token, topic, data: { n } });
  published.push(answer.id);
}
const received = [];
for await (const message of stream) {
  received.push({ id: message.id, data: message.data });
  if (received.length === published.length) break;
}
const rx = await firstOnRx;
console.log(JSON.stringify({ node: process.version, published, received, rx: { id: rx.id, data: rx.data } }));
