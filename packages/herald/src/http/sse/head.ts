import type { ServerResponse } from "node:http";
import { EARLIEST } from "../../core/bus.ts";
import type { ResumeOutcome, ReusedIds } from "../../core/hub.ts";

/**
 * What a protocol's stream responses carry. Herald's API and Mercure differ only here (and in
 * how their requests are parsed); everything else about a stream is shared (open-stream.ts).
 */
export interface StreamProtocol {
  /** Names its streams in logs ("events", "mercure"). */
  readonly name: string;
  /** Headers of its 200 response (SSE_HEADERS, or more). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * What the response's `Last-Event-ID` header says:
   * - `"resume-point"` (Herald): a live-only stream is told the hub's resume point, so it can resume
   *   even before its first event; the head goes out at once, and a resume is answered in the stream
   *   (replayed events, or the `herald.missed` event);
   * - `"resume-outcome"` (Mercure): a resuming stream's head waits for the history's answer and
   *   names the id it resumed from, or `earliest` when it could not (unknown or too old); a
   *   live-only stream gets no such header.
   */
  readonly lastEventId: "resume-point" | "resume-outcome";
  /** Where a resume from an id several events carry starts (`SubscribeRequest.reusedIds`). */
  readonly reusedIds: ReusedIds;
}

/**
 * The response head of a stream that goes out at once: before the history is asked (live-only
 * streams, and every stream of a `"resume-point"` protocol). `resumePoint`: the hub's, read in the
 * same event-loop turn as the subscriber is registered.
 */
export function headAtOnce(
  protocol: StreamProtocol,
  lastEventId: string | undefined,
  resumePoint: string | undefined,
): Readonly<Record<string, string>> {
  if (protocol.lastEventId !== "resume-point" || lastEventId !== undefined) return protocol.headers;
  // Sent only when it is printable ASCII (a header value cannot carry every id a publisher may choose).
  if (resumePoint === undefined || !/^[\x20-\x7e]+$/.test(resumePoint)) return protocol.headers;
  return { ...protocol.headers, "Last-Event-ID": resumePoint };
}

/** Whether the head waits for the history's answer to a resume (`headAfterResume`). */
export function headWaitsForResume(protocol: StreamProtocol, lastEventId: string | undefined): boolean {
  return protocol.lastEventId === "resume-outcome" && lastEventId !== undefined;
}

/**
 * The head of a `"resume-outcome"` stream once the history answered its resume from `lastEventId`,
 * the outcome in `header` (`Last-Event-ID`; Mercure 1.0 names it `Mercure-Last-Event-ID`).
 */
export function headAfterResume(
  protocol: StreamProtocol,
  lastEventId: string,
  outcome: ResumeOutcome,
  header = "Last-Event-ID",
): Record<string, string> {
  const id = outcome.kind === "replay" ? lastEventId : EARLIEST;
  return { ...protocol.headers, [header]: headerSafe(id) };
}

/**
 * An id as a header value. Ids may hold characters a header cannot carry (control characters,
 * non-ASCII): then those and `%` are percent-encoded (UTF-8). Printable ASCII ids are sent as is.
 */
export function headerSafe(id: string): string {
  if (/^[\t\x20-\x7e]*$/.test(id)) return id;
  return id.replace(/[^\t\x20-\x7e]|%/gu, (ch) =>
    [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}

/**
 * Memory per idle stream: node:http keeps the response head it sent (`res._header`) while the
 * response lives, built by string concatenation: a tree of ~25 V8 cons strings (~800 bytes).
 * Streams opened in the same second (same `Date`) with the same headers send the same head: they
 * share one string (~270 bytes each saved). A new head is flattened first (converting it to a
 * number makes V8 flatten it in place, the trick of the `flatstr` package, used by pino). Replacing
 * the string by an equal one changes nothing node:http could see; harmless if Node ever stops
 * keeping it. One `SharedHead` per protocol (their heads differ).
 */
export class SharedHead {
  private head = "";

  share(res: ServerResponse): void {
    const response = res as unknown as { _header?: unknown };
    const head = response._header;
    if (typeof head !== "string") return;
    if (head === this.head) {
      response._header = this.head;
    } else {
      Number(head);
      this.head = head;
    }
  }
}
