import type { Deliver, HostMessage, TabMessage } from "./messages.ts";

/**
 * Joins a shared stream through a SharedWorker (one per origin and script URL, alive while a tab
 * uses it). `join` is sent once the worker's port is started; `onFail` is called if the worker
 * script cannot be loaded (the caller then shares through a BroadcastChannel instead).
 *
 * The worker may die under its tabs: in Chromium it runs in the renderer of the tab that started
 * it, and goes when that tab crashes; a MessagePort says nothing then. So the worker holds a Web
 * Lock while it lives and tells each tab its name (`{t: "worker"}`); the tab asks for that lock, and
 * when it gets it the worker is gone: the tab says so (`reconnecting`) and joins a new worker
 * (`open()` starts one), as a new leader would: with the stream's topics as it last heard them and
 * Last-Event-ID = `lastId()`, the last id of the stream it saw. The first tab to join starts the
 * stream there, so the hub replays what was published meanwhile (or sends `herald.missed`); a tab
 * that was ahead drops the repeats (RecentIds).
 *
 * Returns the function that leaves.
 */
export function joinViaWorker(
  open: () => SharedWorker,
  join: Extract<TabMessage, { t: "join" }>,
  deliver: Deliver,
  lastId: () => string | undefined,
  onFail: () => void,
): () => void {
  let left = false;
  /** The stream's topics, as the worker last told them. */
  let streamTopics: readonly string[] = join.options.topics;
  let leave = () => {};
  const connect = (message: Extract<TabMessage, { t: "join" }>) => {
    const worker = open();
    const port = worker.port;
    const gone = new AbortController(); // ends the watch of this worker's lock
    let failed = false;
    worker.addEventListener("error", () => {
      if (failed || left) return;
      failed = true;
      gone.abort();
      port.close();
      onFail();
    });
    const died = () => {
      if (left || failed) return;
      failed = true;
      port.close();
      deliver({
        t: "state",
        state: "reconnecting",
        error: {
          message: "the shared worker stopped (its tab crashed): joining a new one",
          status: 0,
          code: undefined,
        },
        delayMs: 0,
        attempt: 1,
      });
      connect({
        ...join,
        options: { ...join.options, lastEventId: lastId() },
        streamTopics,
      });
    };
    port.onmessage = (event: MessageEvent<HostMessage>) => {
      const m = event.data;
      if (m.t === "worker") {
        navigator.locks.request(m.lock, { signal: gone.signal }, died).catch(() => {}); // aborted: left
        return;
      }
      if (m.t === "topics") streamTopics = m.topics;
      deliver(m);
    };
    port.start();
    port.postMessage(message);
    leave = () => {
      gone.abort();
      if (failed) return;
      port.postMessage({ t: "leave", member: join.member } satisfies TabMessage);
      port.close();
    };
  };
  connect(join);
  return () => {
    left = true;
    leave();
  };
}
