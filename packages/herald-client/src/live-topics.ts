import { safeJson } from "./parse.ts";
import { changeTopics, postTopicChange, sameTopics } from "./topics.ts";
import { HeraldClientError } from "./transport.ts";
import type { ConnectionState } from "./types.ts";

/** What LiveTopics needs of its subscription. */
export interface LiveTopicsOwner {
  state(): ConnectionState;
  /** Ends the current connection and connects again at once (resuming after the last id). */
  reconnectNow(): void;
}

/**
 * The open stream as its `herald.stream` event told it, and the token its connection was opened
 * with: the token the stream holds, the only one Herald takes for its changes (docs/streams.md).
 * A token function is not called again for a change: a fresh token would get 403.
 */
interface HeldStream {
  readonly id: string;
  readonly token: string | undefined;
}

/**
 * The topics of one subscription, and their changes while its stream is open: `POST
 * /streams/{id}/topics` once the stream's `herald.stream` event told its id, else a reconnect with
 * the new set. Changes run one after the other, in call order. Every connection asks for `topics`.
 */
export class LiveTopics {
  private list: readonly string[];
  private stream: HeldStream | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: readonly string[],
    private readonly hub: { url: string | URL; withCredentials: boolean; fetch: typeof fetch },
    private readonly owner: LiveTopicsOwner,
  ) {
    this.list = initial;
  }

  /** The topics of the stream, or those the next connection asks for. */
  get topics(): readonly string[] {
    return this.list;
  }

  get streamId(): string | undefined {
    return this.stream?.id;
  }

  /** A connection starts or ended: its stream id no longer holds. */
  forgetStream(): void {
    this.stream = undefined;
  }

  /**
   * herald.stream: remember the id, with `token`, the one this connection was opened with; if the
   * stream was asked for before a change, send the difference (to this stream, with that token).
   */
  opened(text: string, token: string | undefined): void {
    const body = safeJson(text) as { id?: unknown; topics?: unknown } | undefined;
    if (typeof body?.id !== "string") return;
    const stream: HeldStream = { id: body.id, token };
    this.stream = stream;
    const has = Array.isArray(body.topics) ? body.topics.filter((t) => typeof t === "string") : [];
    if (has.length === 0 || sameTopics(has, this.list)) return;
    const want = this.list;
    const add = want.filter((t) => !has.includes(t));
    const remove = has.filter((t) => !want.includes(t));
    this.queue = this.queue.then(() => this.post(stream, add, remove).catch(() => {}));
  }

  /** `lists`: [add, remove], or throws the TypeError of bad input (the promise rejects with it). */
  change(lists: () => [string[], string[]]): Promise<readonly string[]> {
    let add: string[];
    let remove: string[];
    try {
      [add, remove] = lists();
    } catch (error) {
      return Promise.reject(error);
    }
    const change = async (): Promise<readonly string[]> => {
      if (this.owner.state() === "closed") throw new HeraldClientError("the subscription is closed");
      const before = this.list;
      const next = changeTopics(before, add, remove);
      if (next.length === 0) throw new TypeError("remove: no topic would be left; close() the subscription");
      this.list = next;
      if (this.owner.state() !== "open") return next; // the next connection asks for them
      const stream = this.stream;
      if (stream === undefined) {
        this.owner.reconnectNow(); // a hub without live changes
        return next;
      }
      try {
        const topics = await this.post(
          stream,
          add.filter((t) => !before.includes(t)),
          remove.filter((t) => before.includes(t)),
        );
        if (topics !== undefined) this.list = topics;
        return this.list;
      } catch (error) {
        this.list = before;
        throw error;
      }
    };
    const result = this.queue.then(change, change);
    this.queue = result.catch(() => {});
    return result;
  }

  /**
   * Asks the hub to change `stream`, with the token it holds; undefined when there is nothing to ask
   * or the stream is gone (404: the reconnect asks for `topics`, with its own fresh token).
   */
  private async post(stream: HeldStream, add: string[], remove: string[]): Promise<string[] | undefined> {
    if (add.length === 0 && remove.length === 0) return undefined;
    const answer = await postTopicChange({
      ...this.hub,
      streamId: stream.id,
      add,
      remove,
      token: stream.token,
    });
    if ("topics" in answer) return answer.topics;
    if (answer.error.status === 404) return undefined;
    throw answer.error;
  }
}
