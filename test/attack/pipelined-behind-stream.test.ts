import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { publish } from "../helpers/herald.ts";
import { useRawHerald } from "../helpers/raw-herald.ts";
import { until } from "../helpers/waiters.ts";

/**
 * docs/wire-format.md: "An event stream is the last response on its HTTP/1.1 connection: once it
 * runs, bytes the client sends after its request (a request pipelined behind the endless stream)
 * are ignored". A publish pipelined behind GET /events can never be answered, so it must not be
 * carried out either: a client that never gets an answer cannot know it was published (a retry
 * would publish it twice).
 */
describe("attack: a publish pipelined behind GET /events", () => {
  const { herald, open } = useRawHerald();

  it("is ignored, not published without an answer", async () => {
    const subscriber = await open("GET /events?topic=behind HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => subscriber.text.includes(": ok"), "the subscriber's stream to open");
    const body = JSON.stringify({ topic: "behind", data: "pipelined" });
    const client = await open(
      "GET /events?topic=other HTTP/1.1\r\nHost: x\r\n\r\n" +
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await until(() => client.text.includes(": ok"), "the client's stream to open");
    // a marker published after it, on its own connection: once it arrived, so would have the other
    assert.equal((await publish(herald().url, { topic: "behind", data: "marker" })).status, 200);
    await until(() => subscriber.text.includes("data: marker"), "the subscriber to receive the marker");
    assert.ok(
      !client.text.includes("HTTP/1.1 200 OK\r\nContent-Type: application/json"),
      "no answer inside the stream",
    );
    assert.ok(
      !subscriber.text.includes("data: pipelined"),
      "the publish pipelined behind a stream (never answered) was not carried out",
    );
  });
});
