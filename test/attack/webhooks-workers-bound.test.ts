// Attack: the webhook bounds of docs/webhooks.md are stated per node ("At most --webhook-max-queue
// events wait per node", "8 calls at most per node"), and a node runs one process per CPU by default
// (--workers auto). Each worker keeps its own queue and its own 8 calls, so a node of N workers holds
// N x --webhook-max-queue events and makes 8N calls at once to a dead receiver.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers } from "../helpers/process.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually, until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

const TOPICS = 40;

/** The value of an unlabelled metric line of /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = (await httpRequest(`${url}/metrics`)).text;
  const line = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(line, `${name} in /metrics`);
  return Number(line[1]);
}

async function openStreams(herald: HeraldProcess): Promise<RawStream[]> {
  const streams: RawStream[] = [];
  for (let i = 0; i < TOPICS; i++) streams.push(new RawStream(`${herald.url}/events?topic=room/${i}`));
  for (const stream of streams) await stream.opened();
  return streams;
}

describe("webhooks on one node of --workers 2, receiver never answers", () => {
  for (const maxQueue of [5, 200]) {
    describe(`--webhook-max-queue ${maxQueue}`, () => {
      let herald: HeraldProcess;
      const receiver = new Receiver(0, true);
      let streams: RawStream[] = [];
      before(async () => {
        await receiver.start();
        herald = await spawnWorkers(2, {
          HERALD_JWT_SECRET: TEST_SECRET,
          HERALD_PRESENCE: "room/*",
          HERALD_WEBHOOK_URL: receiver.url,
          HERALD_WEBHOOK_SECRET: SECRET,
          HERALD_WEBHOOK_MAX_QUEUE: String(maxQueue),
          HERALD_WEBHOOK_TIMEOUT: "120s",
          HERALD_WEBHOOK_EVENTS: "subscriber.connected",
          HERALD_MAX_CONNECTIONS_PER_IP: "10000",
        });
        streams = await openStreams(herald);
      });
      after(async () => {
        for (const stream of streams) stream.close();
        herald?.child.kill("SIGKILL");
        await herald?.exited;
        await receiver.close();
      });

      if (maxQueue === 5) {
        it("holds at most --webhook-max-queue events for the node, the rest dropped and counted", async () => {
          // one subscriber.connected per stream: every one is either waiting or dropped
          await eventually(
            async () =>
              (await metric(herald.url, "herald_webhook_queue")) +
                (await metric(herald.url, "herald_webhook_dropped_total")) ===
              TOPICS,
            "every subscriber.connected queued or dropped",
            20_000,
          );
          const queued = await metric(herald.url, "herald_webhook_queue");
          assert.ok(
            queued <= maxQueue,
            `the node holds ${queued} webhook events for a dead receiver, over --webhook-max-queue ${maxQueue} ("at most --webhook-max-queue events wait per node", docs/webhooks.md)`,
          );
        });

        it("delivers every event to every subscriber meanwhile (a dead endpoint never slows delivery)", async () => {
          const token = await heraldToken({ publish: ["room/*"] });
          for (let round = 0; round < 5; round++) {
            const events = Array.from({ length: TOPICS }, (_, i) => ({
              topic: `room/${i}`,
              data: `r${round}-${i}`,
            }));
            const answer = await httpRequest(`${herald.url}/publish/batch`, {
              method: "POST",
              headers: { "content-type": "application/json", ...bearer(token) },
              body: JSON.stringify({ events }),
            });
            assert.equal(answer.status, 200, answer.text);
          }
          await Promise.all(
            streams.map((stream, i) => stream.until(() => stream.text.includes(`data: r4-${i}\n`), 10_000)),
          );
          for (const [i, stream] of streams.entries()) {
            const got = [...stream.text.matchAll(/^data: (r\d-\d+)$/gm)].map((m) => m[1]);
            assert.deepEqual(
              got,
              [0, 1, 2, 3, 4].map((r) => `r${r}-${i}`),
              `room/${i}`,
            );
          }
        });
      } else {
        it("makes at most 8 calls at once to the receiver for the node", async () => {
          await until(() => receiver.requests >= 8, "8 calls reached the receiver");
          await eventually(
            async () => (await metric(herald.url, "herald_webhook_queue")) === TOPICS,
            "every subscriber.connected queued",
            20_000,
          );
          // the calls that were started when the events were queued have reached the receiver
          await new Promise((resolve) => setTimeout(resolve, 1000));
          assert.ok(
            receiver.requests <= 8,
            `${receiver.requests} calls are open at once to a receiver that never answers ("8 calls at most per node", docs/webhooks.md)`,
          );
        });
      }
    });
  }
});
