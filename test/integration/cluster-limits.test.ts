import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

/** A publish on a connection of its own (no keep-alive): node:cluster hands each to the next worker. */
function publishOnNewConnection(
  url: string,
  body: unknown,
  path = "/publish",
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  return new Promise<{ status: number; retryAfter: string | undefined; text: string }>((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: "POST", agent: false, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let answer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          answer += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"] as string | undefined,
            text: answer,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

interface Status {
  workers: number;
  connections: number;
  perWorker: { pid: number; connections: number }[];
}

describe("--workers 2: stream, publish-rate and control-rate limits count for the whole machine", () => {
  let herald: HeraldProcess;
  const streams: RawStream[] = [];
  before(async () => {
    herald = await spawnWorkers(2, {
      HERALD_MAX_CONNECTIONS_PER_IP: "3",
      HERALD_PUBLISH_RATE: "1",
      HERALD_PUBLISH_BURST: "3",
      HERALD_CONTROL_RATE: "1",
      HERALD_CONTROL_BURST: "3",
      HERALD_JWT_SECRET: TEST_SECRET,
    });
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await stopHerald(herald);
  });

  const status = async () => (await httpRequest(`${herald.url}/status`)).body as Status;

  it("a client IP gets HERALD_MAX_CONNECTIONS_PER_IP streams in all, whichever worker serves each", async () => {
    for (let i = 0; i < 3; i++) {
      const stream = new RawStream(`${herald.url}/events?topic=t`);
      streams.push(stream);
      await stream.opened();
    }
    const spread = await status();
    assert.equal(spread.connections, 3);
    assert.equal(spread.workers, 2);
    assert.ok(
      spread.perWorker.every((w) => w.connections > 0),
      `the streams are on both workers: ${JSON.stringify(spread.perWorker)}`,
    );

    const refused = await httpRequest(`${herald.url}/events?topic=t`);
    assert.equal(refused.status, 429, refused.text);
    assert.match(refused.text, /HERALD_MAX_CONNECTIONS_PER_IP/);
    assert.ok(refused.headers["retry-after"], "Retry-After is set");

    // a stream that ends gives its place back, on the machine's count too
    streams.shift()?.close();
    await eventually(async () => (await status()).connections === 2, "the closed stream to be counted out");
    const again = new RawStream(`${herald.url}/events?topic=t`);
    streams.push(again);
    await again.opened();
  });

  it("a worker that dies gives its streams' places back", async () => {
    for (const stream of streams.splice(0)) stream.close();
    await eventually(async () => (await status()).connections === 0, "every stream to be counted out");
    for (let i = 0; i < 3; i++) {
      const stream = new RawStream(`${herald.url}/events?topic=t`);
      streams.push(stream);
      await stream.opened();
    }
    const before = await status();
    const victim = before.perWorker.find((w) => w.connections > 0);
    assert.ok(victim, "a worker holds streams");
    process.kill(victim.pid, "SIGKILL");
    // the primary starts another worker; the dead one's places are free again
    await eventually(
      async () => {
        const now = await status();
        return now.workers === 2 && now.perWorker.every((w) => w.pid !== victim.pid);
      },
      "the replacement worker",
      20_000,
    );
    const open = () => streams.filter((stream) => !stream.closed).length;
    await eventually(
      async () => open() < 3 && (await status()).connections === open(),
      "the dead worker's streams to end",
    );
    for (let i = open(); i < 3; i++) {
      const stream = new RawStream(`${herald.url}/events?topic=t`);
      streams.push(stream);
      await stream.opened();
    }
    assert.equal((await status()).connections, 3);
  });

  /**
   * 6 requests at once, each on its own connection (so spread over both workers), against a bucket
   * of 3 refilled at 1/s: 3 per worker would all pass if each worker counted alone.
   */
  const sixAtOnce = async (send: () => ReturnType<typeof publishOnNewConnection>, refusal: RegExp) => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 6 }, send));
    const refilled = Math.floor((Date.now() - started) / 1000);
    const accepted = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429);
    assert.ok(
      accepted >= 3 && accepted <= 3 + refilled,
      `${accepted} accepted: ${answers.map((a) => a.text)}`,
    );
    assert.equal(refused.length, 6 - accepted, "every other one is refused with 429");
    assert.match(refused[0]?.text ?? "", refusal);
    assert.ok(refused[0]?.retryAfter, "Retry-After is set");
  };

  it("a publisher gets HERALD_PUBLISH_BURST publishes at once in all, whichever worker takes each", async () => {
    let i = 0;
    await sixAtOnce(
      () => publishOnNewConnection(herald.url, { topic: "t", data: i++ }),
      /publish rate limit reached/,
    );
  });

  it("a subject gets HERALD_CONTROL_BURST tickets at once in all, whichever worker takes each", async () => {
    const headers = bearer(await heraldToken({ subscribe: ["t"] }, { subject: "ticketer" }));
    await sixAtOnce(() => publishOnNewConnection(herald.url, {}, "/tickets", headers), /HERALD_CONTROL_RATE/);
  });

  it("a batch counts one publish per event, whichever worker takes it", async () => {
    const tokenOf = async (subject: string) => bearer(await heraldToken({ publish: ["*"] }, { subject }));
    const headers = await tokenOf("batcher");
    const batch = (events: number, as = headers) =>
      publishOnNewConnection(
        herald.url,
        { events: Array.from({ length: events }, (_, i) => ({ topic: "t", data: i })) },
        "/publish/batch",
        as,
      );
    const started = Date.now();
    const first = await batch(3);
    assert.equal(first.status, 200, `the whole burst in one batch: ${first.text}`);
    // 4 more on connections of their own: spread over both workers, all drawing on one bucket
    const more = await Promise.all(Array.from({ length: 4 }, () => batch(3)));
    const refilled = Math.floor((Date.now() - started) / 1000); // HERALD_PUBLISH_RATE is 1/s
    const accepted = more.filter((a) => a.status === 200).length * 3;
    assert.ok(accepted <= refilled, `${accepted} more events accepted: ${more.map((a) => a.text)}`);
    const refused = more.filter((a) => a.status === 429);
    assert.ok(refused.length > 0 && refused[0]?.retryAfter, "429 with Retry-After");
    assert.match(refused[0]?.text ?? "", /publish rate limit reached/);
    const tooBig = await batch(4, await tokenOf("too-big")); // a full bucket: the gate lets it in
    assert.equal(tooBig.status, 413, tooBig.text);
    assert.match(tooBig.text, /HERALD_PUBLISH_BURST \(3\)/);
  });
});

describe("--workers 2: a publisher far under its rate limit is never refused", () => {
  let herald: HeraldProcess;
  before(async () => {
    herald = await spawnWorkers(2, { HERALD_PUBLISH_RATE: "100000", HERALD_PUBLISH_BURST: "100000" });
  });
  after(() => stopHerald(herald));

  it("800 publishes, 50 pipelined on each of 16 connections: all accepted", async () => {
    const url = new URL(herald.url);
    const body = JSON.stringify({ topic: "t", data: "x" });
    const request = `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const statuses = await Promise.all(
      Array.from(
        { length: 16 },
        () =>
          new Promise<string[]>((resolve, reject) => {
            const socket = connect(Number(url.port), url.hostname);
            let text = "";
            socket.setEncoding("utf8");
            socket.on("data", (chunk: string) => {
              text += chunk;
              const lines = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1] as string);
              if (lines.length === 50) {
                socket.end();
                resolve(lines);
              }
            });
            socket.on("error", reject);
            socket.write(request.repeat(50));
          }),
      ),
    );
    const refused = statuses.flat().filter((status) => status !== "200");
    assert.deepEqual(
      refused,
      [],
      "none refused: the workers share the bucket's tokens, they do not drain it",
    );
  });
});
