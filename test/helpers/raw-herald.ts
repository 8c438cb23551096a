import { after, before } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { startTestHerald } from "./herald.ts";
import { RawSocket } from "./raw-socket.ts";

/** What {@link useRawHerald} gives the tests of its `describe`. */
export interface RawHerald {
  /** The running Herald (valid inside tests, after `before` ran). */
  herald(): Herald;
  /** Connects a new raw client, sends `bytes` once connected, and returns it (closed by `after`). */
  open(bytes: string): Promise<RawSocket>;
}

/**
 * A test Herald with default options, and raw TCP clients on it, for tests that write bytes Node's
 * HTTP client would not. Call it in a `describe` body: it registers a `before` that starts Herald and
 * an `after` that destroys every client `open` made, then closes Herald.
 */
export function useRawHerald(): RawHerald {
  let herald: Herald | undefined;
  const clients: RawSocket[] = [];
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await herald?.close();
  });
  const running = (): Herald => {
    if (herald === undefined)
      throw new Error("useRawHerald: Herald is not started yet (use it inside a test)");
    return herald;
  };
  return {
    herald: running,
    async open(bytes) {
      const client = new RawSocket(Number(new URL(running().url).port));
      clients.push(client);
      await client.connected();
      client.send(bytes);
      return client;
    },
  };
}
