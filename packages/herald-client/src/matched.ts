import { safeJson } from "./parse.ts";

/**
 * What a `matched=1` stream says about its events (docs/streams.md, "Which topics matched"): each
 * event is preceded by a `: matched 0 2` comment line, indices into the stream's topic list, which
 * the `herald.stream` event announced and a `: topics [...]` comment replaces where a live change
 * takes effect. This follows that list in stream order (never the change's HTTP answer, which
 * comes on another connection) and turns the indices into the topics themselves.
 */
export class MatchedTopics {
  private list: readonly string[] = [];
  private pending: readonly string[] | undefined;

  /** A new connection: nothing is pending, the list comes with its `herald.stream` event. */
  reset(): void {
    this.list = [];
    this.pending = undefined;
  }

  /** The data of the stream's `herald.stream` event. */
  opened(text: string): void {
    const body = safeJson(text) as { topics?: unknown } | undefined;
    if (Array.isArray(body?.topics)) this.list = body.topics.filter((t) => typeof t === "string");
  }

  /** A comment line of the stream (without the colon and the one space after it). */
  comment(text: string): void {
    if (text.startsWith("matched")) {
      const indices = text.slice("matched".length).trim();
      this.pending =
        indices === ""
          ? []
          : indices.split(" ").flatMap((i) => {
              const topic = this.list[Number(i)];
              return topic === undefined ? [] : [topic];
            });
    } else if (text.startsWith("topics ")) {
      const topics = safeJson(text.slice("topics ".length));
      if (Array.isArray(topics)) this.list = topics.filter((t) => typeof t === "string");
    }
  }

  /**
   * The topics the event just parsed matched (its line came before its fields); undefined when it
   * had none (the hub's own events: they are about the whole stream).
   */
  take(): readonly string[] | undefined {
    const topics = this.pending;
    this.pending = undefined;
    return topics;
  }
}
