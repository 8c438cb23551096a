import assert from "node:assert/strict";
import { test } from "node:test";
import { sumFigures } from "../../packages/herald/src/cluster/figures-sum.ts";
import type { Figures } from "../../packages/herald/src/ops/figures.ts";

const worker = (n: number): Figures => ({
  connections: n,
  subscriptions: 2 * n,
  published: 10 * n,
  delivered: 3 * n,
  dropped: n,
  replayed: n,
  slowDisconnects: n,
  missedSignals: n,
  connectionsOpened: n,
  connectionsClosed: { "client-closed": n, slow: 0, shutdown: 0, expired: 0, error: n },
  historySize: 100 * n,
  busLagSeconds: n / 10,
  publishedByTopic: { prices: 5 * n },
});

test("sumFigures: per-client figures are summed, the shared log's figures are the largest worker's", () => {
  const all = sumFigures([worker(1), worker(2)]);
  assert.equal(all.connections, 3);
  assert.equal(all.subscriptions, 6);
  assert.equal(all.delivered, 9);
  assert.deepEqual(all.connectionsClosed, { "client-closed": 3, slow: 0, shutdown: 0, expired: 0, error: 3 });
  assert.equal(all.published, 20);
  assert.equal(all.historySize, 200);
  assert.equal(all.busLagSeconds, 0.2);
  assert.deepEqual(all.publishedByTopic, { prices: 10 });
  assert.equal(sumFigures([]).connections, 0);
});
