import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";

/** Subscriber groups by their token's subscribe claim (undefined = no token). */
const GROUPS: (string[] | undefined)[] = [
  undefined,
  ["orders/42"],
  ["orders/*", "vault/*"],
  ["billing"],
  ["*"],
];
const MAY_READ_X1 = new Set([1, 2, 4]); // "private": true on orders/42
const MAY_READ_X2 = new Set([2, 4]); // vault/a, private by HERALD_PRIVATE_TOPICS
const SUBSCRIBERS = 200;
const QUERY = "/events?topic=orders/42&topic=vault/a";

interface Client {
  group: number;
  headers: Record<string, string>;
  source: EventSource;
  ids: string[];
}

function connect(herald: Herald, client: Omit<Client, "source">, lastEventId?: string): EventSource {
  const extra: Record<string, string> = { ...client.headers };
  if (lastEventId !== undefined) extra["last-event-id"] = lastEventId;
  const source = new EventSource(`${herald.url}${QUERY}`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...extra } }),
  });
  source.addEventListener("message", (event) => client.ids.push(event.lastEventId));
  return source;
}

describe("private events among 200 subscribers with mixed rights", () => {
  let herald: Herald;
  const clients: Client[] = [];
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      privateTopics: ["vault/*"],
      maxConnectionsPerIp: 1000,
    });
  });
  after(async () => {
    for (const client of clients) client.source.close();
    await herald.close();
  });

  it("reach only the allowed ones, live and through Last-Event-ID replay", async () => {
    const tokens = await Promise.all(
      GROUPS.map((rights) =>
        rights === undefined ? undefined : heraldToken({ subscribe: rights }, { expiresInSec: 600 }),
      ),
    );
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const group = i % GROUPS.length;
      const token = tokens[group];
      const partial = { group, headers: token === undefined ? {} : bearer(token), ids: [] as string[] };
      clients.push({ ...partial, source: connect(herald, partial) });
    }
    await until(() => herald.hub.subscriberCount === SUBSCRIBERS, "200 subscribers");
    assert.equal((await publish(herald.url, { topic: "orders/42", data: "p0", id: "p0" })).status, 200);
    await until(() => clients.every((c) => c.ids.includes("p0")), "p0 everywhere");

    // 50 subscribers of every group drop and reconnect with Last-Event-ID while the events go out.
    const reconnecting = clients.filter((_c, i) => i % 4 === 0);
    for (const client of reconnecting) client.source.close();
    for (const client of reconnecting) client.source = connect(herald, client, "p0");
    const x1 = publish(herald.url, { topic: "orders/42", data: "x1", id: "x1", private: true });
    const x2 = publish(herald.url, { topic: ["vault/a"], data: "x2", id: "x2" });
    assert.equal((await x1).status, 200);
    assert.equal((await x2).status, 200);
    assert.equal((await publish(herald.url, { topic: "orders/42", data: "p1", id: "p1" })).status, 200);
    await until(() => clients.every((c) => c.ids.includes("p1")), "p1 everywhere");

    for (const [i, client] of clients.entries()) {
      const count = (id: string) => client.ids.filter((x) => x === id).length;
      assert.equal(
        count("x1"),
        MAY_READ_X1.has(client.group) ? 1 : 0,
        `subscriber ${i} (group ${client.group}) x1`,
      );
      assert.equal(
        count("x2"),
        MAY_READ_X2.has(client.group) ? 1 : 0,
        `subscriber ${i} (group ${client.group}) x2`,
      );
      assert.equal(count("p1"), 1);
    }
  });

  it("filters private events out of a replay from history", async () => {
    const tokens = await Promise.all(
      GROUPS.map((rights) => (rights === undefined ? undefined : heraldToken({ subscribe: rights }))),
    );
    const streams = tokens.map(
      (token) =>
        new RawStream(`${herald.url}${QUERY}`, { ...(token ? bearer(token) : {}), "last-event-id": "p0" }),
    );
    for (const stream of streams) await stream.until(() => stream.ids().includes("p1"));
    for (const [group, stream] of streams.entries()) {
      const expected = ["x1", "x2", "p1"].filter(
        (id) => id === "p1" || (id === "x1" ? MAY_READ_X1 : MAY_READ_X2).has(group),
      );
      assert.deepEqual(stream.ids(), expected, `group ${group}`);
      stream.close();
    }
  });
});
