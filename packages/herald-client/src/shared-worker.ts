/**
 * The SharedWorker of `subscribe({share: true})`: one per origin, it runs one Herald stream per
 * group of tabs asking the same hub the same way (same hub, token, headers: see share/messages.ts),
 * with the union of their topics, and passes each event to every tab of the group (each keeps those of its topics). A tab leaves with a `leave` message, or by closing:
 * its Web Lock is then released and the worker gets it. The last tab of a group leaving closes
 * its stream.
 *
 * Loaded as a module worker (`type: "module"`). Importing it anywhere else does nothing.
 */
import { StreamHost } from "./share/host.ts";
import { hasLocks, holdLock, uniqueName } from "./share/lock.ts";
import type { HostMessage, TabMessage } from "./share/messages.ts";
import { Subscription } from "./subscription.ts";

interface ConnectEvent {
  readonly ports: readonly MessagePort[];
}

const scope = globalThis as unknown as {
  SharedWorkerGlobalScope?: abstract new () => unknown;
  addEventListener(type: "connect", listener: (event: ConnectEvent) => void): void;
};

/**
 * Serves the tabs that connect to this worker. It holds a Web Lock of its own while it lives and
 * tells each tab its name (`{t: "worker"}`): a tab that gets that lock knows the worker died (in
 * Chromium a worker dies with the renderer of the tab that started it) and joins a new one.
 */
export function serveTabs(): void {
  const hosts = new Map<string, StreamHost>();
  const hostOf = new Map<string, StreamHost>();
  const lock = uniqueName("herald-client:worker:");
  const held = hasLocks() ? holdLock(lock) : undefined;
  scope.addEventListener("connect", (event) => {
    const port = event.ports[0];
    if (port === undefined) return;
    void held?.then(() => port.postMessage({ t: "worker", lock } satisfies HostMessage));
    port.onmessage = (message: MessageEvent<TabMessage>) => {
      const m = message.data;
      if (m.t === "join") {
        let host = hosts.get(m.key);
        if (host === undefined) {
          const made = new StreamHost(
            { ...m.options, topics: [...m.options.topics, ...(m.streamTopics ?? [])] },
            (options, onMatched) => new Subscription(options, onMatched),
            undefined,
            (member, empty) => {
              hostOf.delete(member);
              if (empty && hosts.get(m.key) === made) hosts.delete(m.key);
            },
          );
          host = made;
          hosts.set(m.key, made);
        }
        hostOf.set(m.member, host);
        host.join(m.member, (out) => port.postMessage(out), m.lock, m.options.topics);
      } else if (m.t === "leave") {
        hostOf.get(m.member)?.leaveAsked(m.member);
      }
    };
    port.start();
  });
}

if (scope.SharedWorkerGlobalScope !== undefined && globalThis instanceof scope.SharedWorkerGlobalScope) {
  serveTabs();
}
