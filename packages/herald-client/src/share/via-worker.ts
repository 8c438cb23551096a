import type { Deliver, HostMessage, TabMessage } from "./messages.ts";

/**
 * Joins a shared stream through a SharedWorker (one per origin and script URL, alive while a tab
 * uses it). `join` is sent once the worker's port is started; `onFail` is called if the worker
 * script cannot be loaded (the caller then shares through a BroadcastChannel instead).
 * Returns the function that leaves.
 */
export function joinViaWorker(
  worker: SharedWorker,
  join: Extract<TabMessage, { t: "join" }>,
  deliver: Deliver,
  onFail: () => void,
): () => void {
  const port = worker.port;
  let failed = false;
  worker.addEventListener("error", () => {
    if (failed) return;
    failed = true;
    port.close();
    onFail();
  });
  port.onmessage = (event: MessageEvent<HostMessage>) => deliver(event.data);
  port.start();
  port.postMessage(join);
  return () => {
    if (failed) return;
    port.postMessage({ t: "leave", member: join.member } satisfies TabMessage);
    port.close();
  };
}
