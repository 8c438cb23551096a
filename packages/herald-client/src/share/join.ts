import type { ShareOptions } from "../types.ts";
import type { MakeUpstream } from "./host.ts";
import { hasLocks, holdLock, uniqueName } from "./lock.ts";
import { type Deliver, type SharedStreamOptions, shareKey, type TabMessage } from "./messages.ts";
import { joinViaChannel } from "./via-channel.ts";
import { joinViaWorker } from "./via-worker.ts";

export type ShareMode = "worker" | "channel";

export interface SharedJoin {
  /** This subscription's name in the group (a fatal message may be for it alone). */
  readonly member: string;
  /** How this tab shares: through the SharedWorker, or a BroadcastChannel with a leader tab. */
  readonly mode: () => ShareMode;
  readonly leave: () => void;
}

/**
 * Whether this place can share a stream: a page, with Web Locks, and a SharedWorker (unless
 * `share.worker` is false) or a BroadcastChannel. Elsewhere (Node 24 has Web Locks and
 * BroadcastChannel too, but no tabs to share with; workers) `share` is ignored.
 */
export function canShare(share: ShareOptions): boolean {
  if (typeof document === "undefined" || !hasLocks()) return false;
  const hasWorker = typeof SharedWorker === "function" && share.worker !== false;
  return hasWorker || typeof BroadcastChannel === "function";
}

/**
 * Joins the stream the tabs of this origin share for `options` (same key: see `shareKey`), or
 * answers undefined when it cannot share (not a page, no Web Locks, or neither SharedWorker nor
 * BroadcastChannel): the caller then opens a stream of its own.
 *
 * A SharedWorker is preferred; when its script fails to load the tab falls back to the channel.
 * The tab first takes a Web Lock of its own, then joins: whoever hosts the stream waits for that
 * lock to learn the tab is gone, even if it crashed.
 */
export function joinShared(
  options: SharedStreamOptions,
  share: ShareOptions,
  deliver: Deliver,
  makeUpstream: MakeUpstream,
  lastId: () => string | undefined,
): SharedJoin | undefined {
  if (!canShare(share)) return undefined;
  const hasWorker = typeof SharedWorker === "function" && share.worker !== false;
  const lock = uniqueName("herald-client:member:");
  const join: Extract<TabMessage, { t: "join" }> = {
    t: "join",
    key: shareKey(options),
    member: lock,
    lock,
    options,
  };
  let mode: ShareMode = hasWorker ? "worker" : "channel";
  let left = false;
  let leave = () => {};
  const release = holdLock(lock);
  const viaChannel = () => {
    mode = "channel";
    leave = joinViaChannel(join, deliver, makeUpstream, lastId);
  };
  void release.then(() => {
    if (left) return;
    if (mode === "channel") return viaChannel();
    leave = joinViaWorker(
      () => openWorker(share.worker || undefined),
      join,
      deliver,
      lastId,
      () => {
        if (!left) viaChannel();
      },
    );
  });
  return {
    member: lock,
    mode: () => mode,
    leave: () => {
      left = true;
      leave();
      void release.then((unlock) => unlock());
    },
  };
}

/**
 * The SharedWorker: the script given in `share.worker`, else the package's `shared-worker.js`
 * next to this module. The `new SharedWorker(new URL("...", import.meta.url))` form is what Vite,
 * webpack 5 and Parcel recognize to ship the worker script with a bundle.
 */
function openWorker(script: string | URL | undefined): SharedWorker {
  if (script !== undefined) return new SharedWorker(script, { type: "module", name: "herald-client" });
  return new SharedWorker(new URL("../shared-worker.js", import.meta.url), {
    type: "module",
    name: "herald-client",
  });
}
