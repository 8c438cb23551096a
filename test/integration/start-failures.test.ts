import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { runUntilExit } from "../helpers/start-failure.ts";

describe("a start that cannot succeed exits non-zero with the reason, never restarting for ever", () => {
  let taken: Server;
  let port: number;
  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    port = (taken.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  for (const workers of ["1", "2"]) {
    it(`a port already in use, --workers ${workers}: exit 1, saying which port and which setting`, async () => {
      const { code, output } = await runUntilExit(["--port", String(port)], { HERALD_WORKERS: workers });
      assert.equal(code, 1, `exit code; output: ${output}`);
      const lines = logLines(output);
      const fatal = lines.filter((l) => l.level === "fatal");
      assert.equal(fatal.length, 1, output);
      assert.match(
        fatal[0]?.msg ?? "",
        new RegExp(`^cannot start: port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
      assert.match(fatal[0]?.msg ?? "", /HERALD_PORT/);
      assert.ok(!lines.some((l) => /worker died/.test(l.msg)), `no worker restarted: ${output}`);
      await expectAllGone(
        lines.map((l) => l.pid),
        "the whole process stopped",
      );
    });
  }

  for (const level of ["silent", "error"]) {
    it(`--log-level ${level} still prints why the start failed (a port in use, a bad config)`, async () => {
      for (const args of [
        ["--port", String(port)],
        ["--port", "0", "--request-timeout", "0"],
      ]) {
        const { code, output } = await runUntilExit([...args, "--log-level", level], {}, 20_000);
        assert.equal(code, 1, `exit code; output: ${output}`);
        const fatal = logLines(output).filter((l) => l.level === "fatal");
        assert.equal(fatal.length, 1, `one fatal line, ${args.join(" ")}; output: ${output}`);
        assert.match(fatal[0]?.msg ?? "", /already in use|HERALD_REQUEST_TIMEOUT/);
      }
    });
  }

  it("--workers 2: a worker killed by a signal every time before it listens (a crash, the OOM killer) stops the whole process, exit 1, after 3 tries", async () => {
    // worker 1 (and each replacement, which keeps index 1) kills itself as it starts: a signal, no exit code
    const crash = `data:text/javascript,if (process.env.HERALD_WORKER_INDEX === "1") process.kill(process.pid, "SIGKILL");`;
    const { code, output } = await runUntilExit(["--port", "0"], { HERALD_WORKERS: "2" }, 60_000, [
      "--import",
      crash,
    ]);
    assert.equal(code, 1, `exit code (not restarted for ever); output: ${output}`);
    const lines = logLines(output);
    assert.equal(
      lines.filter((l) => /a worker died; starting another/.test(l.msg)).length,
      2,
      "replaced twice",
    );
    const fatal = lines.filter((l) => l.level === "fatal");
    assert.match(
      fatal[0]?.msg ?? "",
      /^cannot start: worker 1 was killed \(SIGKILL\) before it listened, 3 times in a row/,
    );
    await expectAllGone(
      lines.map((l) => l.pid),
      "the whole process stopped",
    );
  });

  // 0 would turn the timeout off: idle and half-sent connections would then stay open for ever
  // (one file descriptor each), and a check would run every millisecond.
  for (const [flag, env] of [
    ["--headers-timeout", "HERALD_HEADERS_TIMEOUT"],
    ["--request-timeout", "HERALD_REQUEST_TIMEOUT"],
  ] as const) {
    it(`${flag} 0 (no cut-off for idle or slow connections) is refused: exit 1, naming the setting`, async () => {
      const { code, output } = await runUntilExit(["--port", "0", flag, "0"], {}, 20_000);
      assert.equal(code, 1, `exit code; output: ${output}`);
      const [fatal] = logLines(output).filter((l) => l.level === "fatal");
      assert.match(fatal?.msg ?? "", new RegExp(`${env} / ${flag}: 0 is under the least of 100ms`), output);
    });
  }
});
