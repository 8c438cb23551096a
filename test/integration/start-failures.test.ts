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
});
