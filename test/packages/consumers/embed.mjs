// A Node program that embeds Herald, as installed from its tarball (`import ... from "herald"`, no
// loader, no flag): a config from `configWith`, a hub started in-process on a free port, a stream
// opened over HTTP, an event published through the hub, the event read from the stream. It prints
// what it saw as JSON, closes the hub, and must then exit by itself (no handle left open).
import { ConfigError, configWith, startHerald } from "herald";

let refused = "";
try {
  configWith({ webhookUrl: "http://127.0.0.1:9/hook" }); // needs a secret and presence topics
} catch (error) {
  refused = error instanceof ConfigError ? error.message : `not a ConfigError: ${error}`;
}

const herald = await startHerald(
  configWith({
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    jwtSecret: "embed-secret-of-32-bytes-or-more!!",
  }),
);
const response = await fetch(`${herald.url}/events?topic=embedded`);
const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
let text = "";
const published = await herald.publish([{ topics: ["embedded"], data: "from the host program" }]);
while (!text.includes("data: from the host program\n")) {
  const { value, done } = await reader.read();
  if (done) break;
  text += value;
}
await reader.cancel();
await herald.close();
console.log(JSON.stringify({ url: herald.url, refused, id: published[0].id, stream: text }));
