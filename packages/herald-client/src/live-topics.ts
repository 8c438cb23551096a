import { safeJson } from "./parse.ts";
import { changeTopics, postTopicChange, sameTopics } from "./topics.ts";
import { HeraldClientError } from "./transport.ts";
import type { ConnectionState } from "./types.ts";

/** What LiveTopics needs of its subscription. */
export interface LiveTopicsOwner {
  state(): ConnectionState;
  /** Ends the current connection and connects again at once (resuming after the last id). */
  reconnectNow(): void;
  /** The token to send (the subscription's, resolved). */
  token(): Promise<string | undefined>;
}

/**
 * The topics of one subscription, and their changes while its stream is open: `POST
 * /streams/{id}/topics` once the stream's `herald.stream` event told its id, else a reconnect with
 * the new set. Changes run one after the other, in call order. Every connection asks for `topics`.
 */
export class LiveTopics {
  private list: readonly string[];
  private stream: string | undefined;
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
    return this.stream;
  }

  /** A connection starts or ended: its stream id no longer holds. */
  forgetStream(): void {
    this.stream = undefined;
  }

  /** herald.stream: remember the id; if the stream was asked for before a change, send the difference. */
  opened(text: string): void {
    const body = safeJson(text) as { id?: unknown; topics?: unknown } | undefined;
    if (typeof body?.id !== "string") return;
    this.stream = body.id;
    const has = Array.isArray(body.topics) ? body.topics.filter((t) => typeof t === "string") : [];
    if (has.length === 0 || sameTopics(has, this.list)) return;
    const want = this.list;
    const add = want.filter((t) => !has.includes(t));
    const remove = has.filter((t) => !want.includes(t));
    this.queue = this.queue.then(() => this.post(add, remove).catch(() => {}));
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
      if (this.stream === undefined) {
        this.owner.reconnectNow(); // a hub without live changes
        return next;
      }
      try {
        const topics = await this.post(
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

  /** Asks the hub; undefined when there is nothing to ask or the stream is gone (404: the reconnect asks for `topics`). */
  private async post(add: string[], remove: string[]): Promise<string[] | undefined> {
    const streamId = this.stream;
    if (streamId === undefined || (add.length === 0 && remove.length === 0)) return undefined;
    const answer = await postTopicChange({
      ...this.hub,
      streamId,
      add,
      remove,
      token: await this.owner.token(),
    });
    if ("topics" in answer) return answer.topics;
    if (answer.error.status === 404) return undefined;
    throw answer.error;
  }
}
