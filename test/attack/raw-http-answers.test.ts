import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { publish } from "../helpers/herald.ts";
import { useRawHerald } from "../helpers/raw-herald.ts";
import type { RawSocket } from "../helpers/raw-socket.ts";
import { until } from "../helpers/waiters.ts";

/**
 * docs/http-api.md: "All error answers are JSON: {"error": "<code>", "message": "<what is wrong and
 * how to fix it>"}"; docs/limits.md: "Every such refusal says why" and "Malformed requests (bad
 * request line, bad header bytes, invalid URLs) get 400". Requests a raw client can send that Node
 * itself refuses must get Herald's JSON error too, and a subscriber keeps receiving meanwhile.
 */
describe("attack: raw requests Node refuses get Herald's JSON error", () => {
  const { herald, open: send } = useRawHerald();
  /** The answer's status and its body (after the head), once the server answered or closed. */
  const answer = async (client: RawSocket) => {
    // ended, or a whole answer: a JSON body, or an empty chunked one
    await until(
      () => client.ended || /\r\n\r\n[\s\S]*\}/.test(client.text) || client.text.endsWith("\r\n0\r\n\r\n"),
      "an answer or a close",
      10_000,
    );
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(client.text)?.[1] ?? 0);
    const body = client.text.slice(client.text.indexOf("\r\n\r\n") + 4);
    return { status, body, text: client.text };
  };
  const assertJsonError = (got: { status: number; body: string; text: string }, status: number) => {
    assert.equal(got.status, status, `expected ${status}, got: ${JSON.stringify(got.text)}`);
    const json = /\{[\s\S]*\}/.exec(got.body)?.[0];
    assert.ok(
      json !== undefined,
      `the ${status} carries a JSON error body; got: ${JSON.stringify(got.text)}`,
    );
    const parsed = JSON.parse(json) as { error?: unknown; message?: unknown };
    assert.equal(typeof parsed.error, "string");
    assert.ok(
      typeof parsed.message === "string" && parsed.message.length > 0,
      "the message says what is wrong",
    );
  };

  it("an HTTP/1.1 request without Host gets a JSON 400 saying so, not an empty body", async () => {
    const client = await send("GET /healthz HTTP/1.1\r\n\r\n");
    assertJsonError(await answer(client), 400);
  });

  it("an Expect other than 100-continue gets a JSON error, not an empty 417", async () => {
    const body = JSON.stringify({ topic: "expect", data: "x" });
    const client = await send(
      `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 200-ok\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const got = await answer(client);
    assert.ok(got.status >= 400 && got.status < 500, `a 4xx; got ${JSON.stringify(got.text)}`);
    assertJsonError(got, got.status);
  });

  it("a CONNECT request is answered (405 or 400, JSON), not dropped without a word", async () => {
    const stream = await send("GET /events?topic=connect HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => stream.text.includes(": ok"), "the subscriber's stream to open");
    const client = await send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    const got = await answer(client);
    assert.ok(got.status === 405 || got.status === 400, `405 or 400; got ${JSON.stringify(got.text)}`);
    assertJsonError(got, got.status);
    // the subscriber was not disturbed
    const sent = await publish(herald().url, { topic: "connect", data: "still here" });
    assert.equal(sent.status, 200);
    await until(() => stream.text.includes("data: still here"), "the subscriber to receive the event");
  });

  it("a body in a transfer coding other than chunked gets a JSON 501 and publishes nothing", async () => {
    const stream = await send("GET /events?topic=coded HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => stream.text.includes(": ok"), "the subscriber's stream to open");
    const body = JSON.stringify({ topic: "coded", data: "as if decompressed" });
    for (const codings of ["gzip, chunked", "identity, chunked", "chunked, chunked"]) {
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const client = await send(
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${codings}\r\n\r\n${chunked}`,
      );
      const got = await answer(client);
      if (got.status === 400) continue; // node:http itself refused the framing: fine, nothing was read
      assertJsonError(got, 501);
      assert.match(got.body, /Transfer-Encoding/, codings);
    }
    const sent = await publish(herald().url, { topic: "coded", data: "plain" });
    assert.equal(sent.status, 200);
    await until(() => stream.text.includes("data: plain"), "the subscriber to receive the plain event");
    assert.doesNotMatch(stream.text, /as if decompressed/, "no coded body was taken as JSON");
  });
});
