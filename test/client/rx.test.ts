import assert from "node:assert/strict";
import { after, test } from "node:test";
import { firstValueFrom, take, toArray } from "rxjs";
import { publish } from "../../packages/herald-client/src/index.ts";
import { fromHerald } from "../../packages/herald-client/src/rx.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";

const herald = await startTestHerald();
after(() => herald.close());

test("fromHerald: an Observable of events; unsubscribing closes the stream", async () => {
  const values = firstValueFrom(
    fromHerald<{ message: string }>({ url: herald.url, topics: "rx" }).pipe(take(2), toArray()),
  );
  await until(() => herald.connections.size === 1, "the stream to open");
  await publish({ url: herald.url, topic: "rx", data: { message: "one" } });
  await publish({ url: herald.url, topic: "rx", data: { message: "two" } });
  assert.deepEqual(
    (await values).map((m) => m.data.message),
    ["one", "two"],
  );
  await until(() => herald.connections.size === 0, "take(2) to close the stream");
});

test("fromHerald errors on a fatal answer", async () => {
  await assert.rejects(
    firstValueFrom(fromHerald({ url: herald.url, topics: "x".repeat(300) })),
    (error: Error & { status?: number }) => error.status === 400,
  );
});
