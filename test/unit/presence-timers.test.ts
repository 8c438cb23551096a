import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import type {
  Leadership,
  PresenceChannel,
  PresenceMessage,
} from "../../packages/herald/src/presence/channel.ts";
import { Presence } from "../../packages/herald/src/presence/presence.ts";
import type { Transition } from "../../packages/herald/src/presence/table.ts";

// Presence with its clock and timers in the test's hands: a pause (SIGSTOP) is the clock jumping
// ahead, then every timer due meanwhile firing at once, in the order they were due. The channel is
// the test's: it records what the node sends, lets the test speak for a peer, and says whether
// the node can hear (a broker outage).
let now = 0;
beforeEach(() => {
  now = 0;
  mock.method(performance, "now", () => now);
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

const HEARTBEAT = 300;

async function advance(ms: number) {
  now += ms;
  mock.timers.tick(ms);
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** `count` heartbeats pass, one at a time (every timer due fires at its own beat). */
async function heartbeats(count: number) {
  for (let i = 0; i < count; i++) await advance(HEARTBEAT);
}

/** `canPublish`: what the node is told of its bus (absent: it can always publish); `leadership`: always leads. */
async function startNode(options: { canPublish?: () => boolean; leadership?: Leadership } = {}) {
  const { canPublish, leadership = { claim: async () => true, release: async () => {} } } = options;
  const sent: PresenceMessage[] = [];
  const announced: Transition[] = [];
  let listener: (message: PresenceMessage) => void = () => {};
  const channel: PresenceChannel & { hearing: boolean } = {
    hearing: true,
    start: async (l) => {
      listener = l;
    },
    send: (message) => void sent.push(message),
    close: async () => {},
  };
  const presence = new Presence({
    watched: [{ kind: "prefix", prefix: "room/" }],
    heartbeatMs: HEARTBEAT,
    channel,
    leadership,
    warmUp: true,
    publish: async () => {},
    ...(canPublish === undefined ? {} : { canPublish }),
    events: { transition: (t) => void announced.push(t) },
    log: { warn() {} },
  });
  await presence.start();
  let seq = 0;
  /** A snapshot of a warm peer `p` with `ann` on room/a (it leads nothing). */
  const peerSnapshot = () =>
    listener({
      kind: "snapshot",
      node: "peer",
      seq: ++seq,
      ttlMs: 3 * HEARTBEAT,
      warm: true,
      leads: false,
      warmFor: 60_000,
      counts: { "room/a": [0, { ann: 1 }] },
    });
  return { presence, sent, announced, channel, peerSnapshot };
}

/**
 * The node warms up (2 heartbeats), then hears the peer's snapshot with `ann` on room/a and, leading,
 * announces her: asserts the announcements are then exactly topic.occupied and a join.
 */
async function warmWithPeer({ announced, peerSnapshot }: Awaited<ReturnType<typeof startNode>>) {
  await advance(2 * HEARTBEAT);
  peerSnapshot();
  await advance(HEARTBEAT);
  assert.deepEqual(
    announced.map((t) => t.type),
    ["occupied", "join"],
  );
}

const warmSnapshots = (sent: PresenceMessage[]) =>
  sent.filter((message) => message.kind === "snapshot" && message.warm === true).length;

describe("presence warm-up across a pause", () => {
  it("ends an undisturbed warm-up after 2 heartbeats", async () => {
    const { presence, sent } = await startNode();
    await advance(HEARTBEAT);
    assert.equal(warmSnapshots(sent), 0);
    await advance(HEARTBEAT);
    assert.equal(warmSnapshots(sent), 1);
    await presence.close();
  });

  // Paused within its warm-up, a node resumes with the warm-up's timer due. It used to end the
  // warm-up then, before hearing anyone, and tell the cluster it may lead: a peer with a higher id
  // stopped leading and took the transitions it had just computed as announced, while this node
  // dropped them as announced elsewhere (no topic.occupied after the pause).
  it("starts the warm-up over after a pause within it, rather than ending it unheard", async () => {
    const { presence, sent } = await startNode();
    await advance(HEARTBEAT); // one heartbeat into the warm-up
    await advance(2000); // paused for 2 s (TTL: 900 ms), then every due timer at once
    assert.equal(warmSnapshots(sent), 0, "told the cluster it may lead at once on resuming");
    assert.equal(presence.leading, false);
    await advance(HEARTBEAT);
    assert.equal(warmSnapshots(sent), 0, "warm 1 heartbeat after resuming");
    await advance(HEARTBEAT);
    assert.equal(warmSnapshots(sent), 1, "still not warm 2 heartbeats after resuming");
    await presence.close();
  });

  it("warms up again after a pause longer than the TTL once warm", async () => {
    const { presence, sent } = await startNode();
    await advance(2 * HEARTBEAT);
    assert.equal(warmSnapshots(sent), 1);
    await advance(2000);
    assert.equal(warmSnapshots(sent), 1, "a resumed node claimed the lead before hearing the others");
    assert.equal(presence.leading, false);
    await advance(2 * HEARTBEAT);
    assert.equal(warmSnapshots(sent), 2);
    await presence.close();
  });
});

describe("presence while the channel cannot hear (a broker outage)", () => {
  // A node whose broker was out of reach longer than the TTL used to forget every peer, then hear
  // them again: a leave and topic.vacated, then a join and topic.occupied, for a subscriber that
  // never left (a second topic.occupied with no vacated between, where the vacated was not
  // announced because nobody led during the outage).
  it("forgets no peer and leads not while deaf; heard again, announces nothing for who never left", async () => {
    const node = await startNode();
    const { presence, announced, channel, peerSnapshot } = node;
    await warmWithPeer(node);
    channel.hearing = false;
    await heartbeats(10); // 3 s without a word from the peer
    assert.equal(presence.leading, false, "a node that cannot hear leads");
    assert.deepEqual(presence.view("room/a").subscribers, ["ann"], "the peer was forgotten while deaf");
    channel.hearing = true;
    await advance(HEARTBEAT); // heard again: the peer's next snapshot comes within a heartbeat
    await advance(HEARTBEAT / 2);
    peerSnapshot();
    await advance(HEARTBEAT);
    assert.deepEqual(
      announced.map((t) => t.type),
      ["occupied", "join"],
      JSON.stringify(announced),
    );
    // a peer that stays silent while this node hears is forgotten within its TTL, as always
    await heartbeats(5);
    assert.deepEqual(
      announced.map((t) => t.type),
      ["occupied", "join", "leave", "vacated"],
    );
    await presence.close();
  });
});

describe("presence while its bus cannot publish (its connection not yet on a new primary)", () => {
  // After a Sentinel failover each connection of a node moves to the new primary on its own. A
  // node whose presence connection moved before its bus's used to take the lead and announce a
  // join the bus then refused ("nothing was stored"): the join was lost.
  it("does not lead while its bus cannot store; leads again once it can", async () => {
    let busReady = true;
    const { presence, announced, peerSnapshot } = await startNode({ canPublish: () => busReady });
    await advance(2 * HEARTBEAT); // warm
    assert.equal(presence.leading, true);
    busReady = false;
    await advance(HEARTBEAT);
    assert.equal(presence.leading, false, "a node whose bus cannot store leads");
    // ann joins on the peer meanwhile (its snapshot each heartbeat): not announced by this node
    const beat = async () => {
      peerSnapshot();
      await advance(HEARTBEAT);
    };
    await beat();
    assert.equal(announced.length, 0, JSON.stringify(announced));
    busReady = true;
    await beat();
    assert.equal(presence.leading, true);
    presence.joined("bob", ["room/a"]);
    await beat();
    assert.deepEqual(
      announced.map((t) => (t.type === "join" ? `join ${t.sub}` : t.type)),
      ["join bob"],
    );
    await presence.close();
  });
});

describe("presence's lease answered late", () => {
  // A claim sent as the Redis primary died was held by the client and run on the new primary once
  // the Sentinels named it, seconds later: the lease it took there kept the other node from leading
  // for 2 heartbeats while this node, its answer too late to trust, did not lead either.
  it("gives up a lease answered after it could be trusted, and leads on a timely one", async () => {
    let late: ((claimed: boolean) => void) | undefined;
    let holdNext = true;
    const released: string[] = [];
    const leadership: Leadership = {
      claim: () => {
        if (!holdNext) return Promise.resolve(true);
        holdNext = false;
        return new Promise((resolve) => {
          late = resolve;
        });
      },
      release: async (node) => void released.push(node),
    };
    const { presence } = await startNode({ leadership });
    await advance(2 * HEARTBEAT); // the warm-up ends: its claim is held
    assert.notEqual(late, undefined);
    await advance(HEARTBEAT * 2); // 600 ms later (a lease is trusted 450 ms)
    late?.(true);
    await advance(0);
    assert.equal(presence.leading, false);
    assert.deepEqual(released, [presence.node], "the late lease was not given up");
    await advance(HEARTBEAT); // the next claim answers at once: it leads
    assert.equal(presence.leading, true);
    await presence.close();
  });
});

describe("presence after an outage, a peer back later than this node", () => {
  // After a Sentinel failover each node's connection moves to the new primary when its own client
  // learns of it, a second or more apart. A node that heard again first gave the other one a TTL
  // (900 ms here) and then forgot it: a leave and topic.vacated, then a join and topic.occupied
  // again, for a subscriber that never left.
  it("waits for a peer cut off by the same outage as long as the outage lasted", async () => {
    const node = await startNode();
    const { presence, announced, channel, peerSnapshot } = node;
    await warmWithPeer(node);
    channel.hearing = false;
    await heartbeats(10); // deaf for 3 s
    channel.hearing = true;
    await heartbeats(5); // the peer comes back 1.5 s later
    assert.deepEqual(presence.view("room/a").subscribers, ["ann"], "the peer was forgotten");
    peerSnapshot();
    await advance(HEARTBEAT);
    assert.deepEqual(
      announced.map((t) => t.type),
      ["occupied", "join"],
      JSON.stringify(announced),
    );
    // one that never comes back is forgotten, the outage's length and its TTL after this node hears
    await heartbeats(15);
    assert.deepEqual(
      announced.map((t) => t.type),
      ["occupied", "join", "leave", "vacated"],
    );
    await presence.close();
  });
});
