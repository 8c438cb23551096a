import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { httpRequest } from "../helpers/herald.ts";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { HERALD_BIN, type HeraldProcess, spawnHerald } from "../helpers/process.ts";
import { runUntilExit } from "../helpers/start-failure.ts";
import { until } from "../helpers/waiters.ts";

const publishWith = (url: string, token: string) =>
  httpRequest(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ topic: "news", data: "hello" }),
  });

/** `herald --workers 2 --host <host>` with tokens required; resolves once both workers listen and the banner is out. */
async function twoWorkersOn(host: string): Promise<HeraldProcess> {
  const herald = await spawnHerald(["--host", host], {
    HERALD_WORKERS: "2",
    HERALD_ALLOW_ANONYMOUS_PUBLISH: "false",
  });
  await until(
    () =>
      herald.output().includes('"token":') && (herald.output().match(/Herald listening/g) ?? []).length === 2,
    "both workers listening and the start banner",
  ).catch((error: unknown) => {
    herald.child.kill("SIGKILL");
    throw error;
  });
  return herald;
}

describe("logs: one format, JSON lines through pino, from every process", () => {
  it("--workers 2 on every interface: only JSON lines, each with pid and worker index; the bound address; the start banner's token publishes", async () => {
    const herald = await twoWorkersOn("");
    try {
      const lines = logLines(herald.output());
      const primary = herald.child.pid as number;
      const listening = lines.filter((l) => l.msg === "Herald listening");
      assert.deepEqual(
        listening.map((l) => l.worker).sort(),
        [0, 1],
        "each worker says it listens, with its index",
      );
      assert.equal(new Set([primary, ...listening.map((l) => l.pid)]).size, 3, "each process its own pid");
      for (const line of listening) {
        // every interface, as bound (today's log said 127.0.0.1)
        assert.match(String(line.address), /^(\[::\]|0\.0\.0\.0):\d+$/, JSON.stringify(line));
        assert.equal(line.url, herald.url);
      }
      for (const line of lines.filter((l) => l.pid === primary))
        assert.equal(line.worker, null, "the primary's lines");
      const banner = lines.find((l) => typeof l.token === "string");
      assert.ok(banner !== undefined);
      assert.equal(banner.level, "warn");
      assert.match(banner.msg, /no key configured/);
      assert.ok(
        String(banner.curl).includes(`${herald.url}/publish`) &&
          String(banner.curl).includes(String(banner.token)),
      );
      assert.equal((await publishWith(herald.url, String(banner.token))).status, 200);
      assert.equal((await publishWith(herald.url, "not-a-token")).status, 401);

      herald.child.kill("SIGTERM");
      assert.equal(await herald.exited, 0, herald.output());
      const all = logLines(herald.output()); // the stop lines too
      assert.ok(
        all.some((l) => l.worker === 1 && l.msg === "Herald stopped"),
        "worker messages are log lines",
      );
      await expectAllGone(
        all.map((l) => l.pid),
        "after SIGTERM",
      );
    } finally {
      herald.child.kill("SIGKILL");
    }
  });

  for (const host of ["0.0.0.0", "::"]) {
    it(`--workers 2 --host ${host}: the primary's start line and banner name the address and URL its workers log`, async () => {
      const herald = await twoWorkersOn(host);
      try {
        const lines = logLines(herald.output());
        const workers = lines.filter((l) => l.msg === "Herald listening");
        const [address] = new Set(workers.map((l) => l.address));
        assert.equal(
          address,
          host === "::" ? `[::]:${new URL(herald.url).port}` : `0.0.0.0:${new URL(herald.url).port}`,
        );
        assert.equal(
          herald.url,
          `http://localhost:${new URL(herald.url).port}`,
          "every interface: localhost reaches it",
        );
        const all = lines.find((l) => l.msg === "all workers listening");
        assert.ok(all !== undefined, herald.output());
        assert.equal(all.address, address, JSON.stringify(all));
        assert.equal(all.url, herald.url, JSON.stringify(all));
        const banner = lines.find((l) => typeof l.token === "string");
        assert.ok(String(banner?.curl).includes(`${herald.url}/publish`), JSON.stringify(banner));
      } finally {
        herald.child.kill("SIGTERM");
        await herald.exited;
        await expectAllGone(
          logLines(herald.output()).map((l) => l.pid),
          "after SIGTERM",
        );
      }
    });
  }

  it("--log-format pretty (for a terminal): readable lines, the token on a line of its own that publishes", async () => {
    const child = spawn(
      process.execPath,
      [HERALD_BIN, "--port", "0", "--host", "127.0.0.1", "--log-format", "pretty"],
      {
        env: { ...process.env, HERALD_WORKERS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | string>((resolve) =>
      child.once("exit", (c, s) => resolve(c ?? s ?? -1)),
    );
    try {
      await until(() => /\n {4}curl: /.test(output), "the start banner");
      assert.match(
        output,
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}w0 \d+ {2}Herald listening {2}address=127\.0\.0\.1:\d+ url=http:\/\/127\.0\.0\.1:\d+/m,
      );
      assert.doesNotMatch(output, /^\{/m, "no JSON line");
      const token = /\n {4}token: (\S+)\n/.exec(output)?.[1];
      const url = /url=(http:\S+)/.exec(output)?.[1];
      assert.ok(token !== undefined && url !== undefined, output);
      assert.equal((await publishWith(url, token)).status, 200);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, output);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a bad --log-format is refused, naming the setting and what it accepts", async () => {
    const { code, output } = await runUntilExit(["--log-format", "yaml"], {});
    assert.equal(code, 1, output);
    const [line] = logLines(output);
    assert.equal(line?.level, "fatal");
    assert.match(line?.msg ?? "", /HERALD_LOG_FORMAT \/ --log-format: "yaml"; it accepts auto, json, pretty/);
  });
});
