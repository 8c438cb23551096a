import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { type HeraldMessage, subscribe } from "../../packages/herald-client/src/index.ts";
import { publish, startTestHerald } from "../helpers/herald.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Promise (docs/client.md): `token` is "a string, or a function returning one (called before every
 * connection, so it can refresh)", the README-style example being `token: () => getFreshToken()`;
 * and `add`/`remove` change a live stream's topics, sending "the subscription's own token".
 * docs/streams.md: the change must carry "the token the stream holds" (another token: 403).
 *
 * Observed (attack round, 2026-12-02): with a token function, `add`/`remove` call the function
 * again (packages/herald-client/src/subscription.ts, `token: () => resolveToken(options.token)`
 * given to LiveTopics) and send that fresh token, which is not the one the stream was opened with;
 * Herald answers 403 "this is not the token the stream holds", and `add` rejects. Any app whose
 * token function mints or fetches a token per call (same subject, same rights, a later `exp`)
 * cannot change its topics at all.
 */
/** One request the SDK made, as a fetch wrapper saw it (the requests themselves are real). */
interface Seen {
  method: string;
  path: string;
  auth: string | null;
  /** The topics a `GET /events` asked for. */
  topics: string[];
  status?: number;
}

describe("subscription.add with a token function that refreshes", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET });
  });
  after(async () => {
    await herald.close();
  });

  test("adds a topic: the change carries the token the stream was opened with", async () => {
    let minted = 0;
    // a fresh token per call, as an app's getFreshToken() gives: same subject and rights, own exp
    const getFreshToken = () => {
      minted++;
      return heraldToken({ subscribe: ["orders/*"] }, { subject: "alice", expiresInSec: 3600 + minted });
    };
    const got: HeraldMessage[] = [];
    const subscription = subscribe({
      url: herald.url,
      topics: ["news"],
      token: getFreshToken,
      onEvent: (m) => got.push(m),
    });
    try {
      await until(
        () => subscription.state === "open" && subscription.streamId !== undefined,
        "the stream opens",
      );
      const topics = await subscription.add(["sports"]).catch((error: Error) => error);
      assert.deepEqual(
        topics,
        ["news", "sports"],
        `add: ${String(topics)} (token function called ${minted} times)`,
      );
      await publish(herald.url, { topic: "sports", data: "after the add" });
      await until(() => got.some((m) => m.text === "after the add"), "the added topic's event");
    } finally {
      subscription.close();
    }
  });

  // The change is made while the reconnect's request (asking for `news`) is on its way: that stream
  // cannot replay `sports` from when the change resolved, so the SDK leaves it at its announcement and
  // connects again with both topics, resuming after the same id (docs/client.md), with a fresh token.
  test("a change asked for during a reconnect reaches the new stream with the new connection's token", async () => {
    let minted = 0;
    const getFreshToken = () => {
      minted++;
      return heraldToken({ subscribe: ["orders/*"] }, { subject: "alice", expiresInSec: 3600 + minted });
    };
    const seen: Seen[] = [];
    const drops: AbortController[] = [];
    let onReconnect: (() => void) | undefined;
    // the real fetch, watched: it records each request, and lets the test drop a stream (as a network would)
    const watched: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const auth = new Headers(init?.headers).get("authorization");
      const topics = url.searchParams.getAll("topic");
      const entry: Seen = { method: init?.method ?? "GET", path: url.pathname, auth, topics };
      seen.push(entry);
      let signal = init?.signal ?? undefined;
      if (url.pathname.endsWith("/events")) {
        if (drops.length === 1) onReconnect?.(); // the second GET: its URL is built, the stream not yet open
        const drop = new AbortController();
        drops.push(drop);
        signal = signal === undefined ? drop.signal : AbortSignal.any([signal, drop.signal]);
      }
      const response = await fetch(input, { ...init, signal });
      entry.status = response.status;
      return response;
    };
    const got: HeraldMessage[] = [];
    const subscription = subscribe({
      url: herald.url,
      topics: ["news"],
      token: getFreshToken,
      fetch: watched,
      initialDelayMs: 50,
      maxDelayMs: 200,
      onEvent: (m) => got.push(m),
    });
    try {
      await until(() => subscription.streamId !== undefined, "the first stream opens");
      const first = subscription.streamId;
      let added: Promise<readonly string[]> | undefined;
      onReconnect = () => {
        added = subscription.add(["sports"]);
      };
      drops[0]?.abort(); // the connection drops; the SDK reconnects with a fresh token
      await until(() => added !== undefined, "the reconnect");
      assert.deepEqual(await added, ["news", "sports"], "recorded for the next connection");
      await until(
        () => subscription.streamId !== undefined && subscription.streamId !== first,
        "the stream with both topics opens",
      );
      const streams = seen.filter((r) => r.path.endsWith("/events"));
      assert.deepEqual(
        streams.map((r) => r.topics),
        [["news"], ["news"], ["news", "sports"]],
        "the stream asked for before the change is left for one asking for both",
      );
      assert.equal(new Set(streams.map((r) => r.auth)).size, 3, "each connection took a fresh token");
      const change = () => seen.filter((r) => r.path.endsWith("/topics"));
      assert.deepEqual(change(), [], "no difference sent: the new stream asked for both");
      await publish(herald.url, { topic: "sports", data: "after the reconnect" });
      await until(() => got.some((m) => m.text === "after the reconnect"), "the added topic's event");
      // and a change on the new stream carries the token it holds
      assert.deepEqual(await subscription.remove("news"), ["sports"]);
      assert.deepEqual(
        change().map((r) => [r.auth, r.status]),
        [[streams[2]?.auth, 200]],
      );
    } finally {
      subscription.close();
    }
  });
});
