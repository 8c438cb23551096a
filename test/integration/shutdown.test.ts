import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { RawStream } from "../helpers/herald.ts";
import { logLines } from "../helpers/logs.ts";
import { spawnHerald } from "../helpers/process.ts";
import { runUntilExit } from "../helpers/start-failure.ts";

describe("graceful shutdown of the herald process", () => {
  for (const [workers, signal] of [
    ["1", "SIGTERM"],
    ["2", "SIGTERM"],
    ["1", "SIGHUP"], // a closed terminal: the same graceful stop
  ] as const) {
    it(`on ${signal} (--workers ${workers}): delivers an accepted publish to every stream, ends streams cleanly, exits 0`, async () => {
      // With 2 workers the publish and the stream may be on different workers: the primary drains
      // every worker before any ends its streams.
      const herald = await spawnHerald(["--workers", workers]);
      const stream = new RawStream(`${herald.url}/events?topic=bye`);
      await stream.opened();
      const { hostname, port } = new URL(herald.url);
      // A publish whose body is still arriving when the signal comes: it was accepted, so it is delivered.
      const body = JSON.stringify({ topic: "bye", data: "last words" });
      const socket = connect(Number(port), hostname);
      let answer = "";
      socket.on("data", (chunk) => {
        answer += chunk.toString();
      });
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(
        `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 200));
      herald.child.kill(signal);
      await new Promise((r) => setTimeout(r, 200));
      socket.write(body.slice(10));
      const code = await herald.exited;
      assert.equal(code, 0, herald.output());
      await stream.until(() => stream.closed);
      assert.match(stream.text, /data: last words\n\n$/);
      assert.match(answer, /^HTTP\/1.1 200/);
      socket.destroy();
    });
  }

  it("refuses to start on a bad setting, naming it (exit 1, one fatal log line)", async () => {
    const bad = await runUntilExit(["--heartbeat", "soon"], {});
    assert.equal(bad.code, 1, bad.output);
    assert.match(
      logLines(bad.output)[0]?.msg ?? "",
      /HERALD_HEARTBEAT \/ --heartbeat: "soon"; it accepts a duration/,
    );
    const negative = await runUntilExit([], { HERALD_HISTORY_SIZE: "-3" });
    assert.equal(negative.code, 1, negative.output);
    assert.match(logLines(negative.output)[0]?.msg ?? "", /HERALD_HISTORY_SIZE/);
  });
});
