import assert from "node:assert/strict";
import { request } from "node:http";
import { EventSource } from "eventsource";
import { until } from "./waiters.ts";

/** The opening event of a Herald stream (`event: herald.stream`). */
export interface StreamInfo {
  readonly id: string;
  readonly topics: string[];
}

/** A received event: its topic (from the data `<topic>:<n>`), its number and its hub id. */
export interface Got {
  readonly topic: string;
  readonly n: number;
  readonly id: string;
}

/** An `eventsource` client of GET /events that records the opening event and every message. */
export class ControlledClient {
  info: StreamInfo | undefined;
  readonly got: Got[] = [];
  readonly source: EventSource;

  constructor(url: string, headers: Record<string, string> = {}) {
    const announced = new URL(url);
    announced.searchParams.set("announce", "1"); // asks for the stream's id (herald.stream)
    this.source = new EventSource(announced, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
    });
    this.source.addEventListener("herald.stream", (event) => {
      this.info = JSON.parse(event.data) as StreamInfo;
    });
    this.source.addEventListener("message", (event) => {
      const [topic, n] = String(event.data).split(":");
      this.got.push({ topic: topic as string, n: Number(n), id: event.lastEventId });
    });
  }

  async opened(): Promise<StreamInfo> {
    await until(() => this.info !== undefined, "the herald.stream opening event");
    return this.info as StreamInfo;
  }

  close(): void {
    this.source.close();
  }
}

/**
 * POSTs JSON (with optional headers) on a new connection (so `--workers` spread them round robin)
 * and answers the status and the parsed body.
 */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** The position of a hub id `<epoch>-<pos>`. */
const posOf = (id: string): number => Number(id.slice(id.lastIndexOf("-") + 1));

/**
 * The key scenario of live subscription changes: a publisher publishes a numbered sequence without
 * pause, alternately on topics a and b (through `publishUrls`, round robin), while the stream of
 * `client` (opened on a) is switched to a+b, then to b, through `controlUrl(id)`. Checks that every
 * event of the topics in effect arrived exactly once, in order, and none of a after its removal:
 * the received events are exactly the published a events up to some position and the published b
 * events from some earlier position on; each change counts from the moment it was answered.
 */
export async function switchWhilePublishing(
  client: ControlledClient,
  publishUrls: readonly string[],
  controlUrl: (id: string) => string,
  headers: Record<string, string> = {},
): Promise<void> {
  const { id, topics } = await client.opened();
  assert.deepEqual(topics, ["a"]);
  const published: Got[] = [];
  let stop = false;
  let n = 0;
  /** Publishes sent so far (one at a time: published[i] is the i-th sent). */
  let sent = 0;
  const publisher = (async () => {
    while (!stop) {
      const topic = n % 2 === 0 ? "a" : "b";
      const url = publishUrls[n % publishUrls.length] as string;
      sent++;
      const answer = await postJson(`${url}/publish`, { topic, data: `${topic}:${n}` });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      published.push({ topic, n, id: answer.body.id as string });
      n++;
    }
  })();
  const publishedAfter = async (count: number) => {
    const target = published.length + count;
    await until(() => published.length >= target, `${count} more publishes`);
  };
  try {
    await publishedAfter(6);
    const add = await postJson(controlUrl(id), { add: ["b"] }, headers);
    assert.equal(add.status, 200, JSON.stringify(add.body));
    assert.deepEqual(add.body, { id, topics: ["a", "b"] });
    // every b SENT from here on must arrive (one sent before the answer may be stored before the change)
    const addedAt = sent;
    await publishedAfter(6);
    const remove = await postJson(controlUrl(id), { remove: ["a"] }, headers);
    assert.equal(remove.status, 200, JSON.stringify(remove.body));
    assert.deepEqual(remove.body, { id, topics: ["b"] });
    const removedAt = sent; // no a sent from here on may arrive
    await publishedAfter(6);
    stop = true;
    await publisher;
    const lastB = published.filter((e) => e.topic === "b").at(-1) as Got;
    await until(() => client.got.some((e) => e.n === lastB.n), "the last b event");

    const got = client.got;
    const positions = got.map((e) => posOf(e.id));
    assert.deepEqual(
      positions,
      [...positions].sort((x, y) => x - y),
      "events in publish order",
    );
    assert.equal(new Set(positions).size, positions.length, "no duplicate");
    const lastA = Math.max(...got.filter((e) => e.topic === "a").map((e) => posOf(e.id)));
    const firstB = Math.min(...got.filter((e) => e.topic === "b").map((e) => posOf(e.id)));
    assert.ok(firstB < lastA, "some events of both topics arrived while the stream had both");
    const expected = published.filter((e) =>
      e.topic === "a" ? posOf(e.id) <= lastA : posOf(e.id) >= firstB,
    );
    assert.deepEqual(
      got.map((e) => e.n),
      expected.map((e) => e.n),
      "exactly the events of the topics in effect",
    );
    const firstBAfterAdd = published.slice(addedAt).find((e) => e.topic === "b") as Got;
    assert.ok(firstB <= posOf(firstBAfterAdd.id), "b events sent after the add answered arrive");
    const firstAAfterRemove = published.slice(removedAt).find((e) => e.topic === "a") as Got;
    assert.ok(lastA < posOf(firstAAfterRemove.id), "no a event sent after the remove answered");
  } finally {
    stop = true;
    await publisher.catch(() => {});
  }
}
