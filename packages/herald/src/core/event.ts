import { charactersOver } from "./characters.ts";
import { badRequest, HeraldError } from "./errors.ts";

/**
 * What a publisher asks to publish, after the server turned its request (JSON, form, seed
 * broadcast) into this shape. `validatePublish` is the one place that checks it; nothing unchecked
 * reaches the log or the wire.
 */
export interface PublishInput {
  /** One or more topics; the event reaches subscribers of any of them. */
  readonly topics: readonly string[];
  /** The text sent as `data:`; line breaks become several `data:` lines. */
  readonly data: string;
  /** The SSE `event:` field (the type the client listens for). Absent means `message`. */
  readonly type?: string | undefined;
  /**
   * A publisher-chosen id. A publish with the scope, id and content (topics, data, type, retry,
   * private) of the newest held event of that scope and id is a retry: not stored again. Any other
   * publish is a new event, even when another scope's event holds the id.
   */
  readonly id?: string | undefined;
  /** The SSE `retry:` field in milliseconds. */
  readonly retry?: number | undefined;
  /** Private events only reach subscribers authorized for one of their topics. */
  readonly private?: boolean | undefined;
  /**
   * Who published, for deduplication only: the server sets it from the caller's credential and
   * publish rights (never from the request body); undefined for the hub's own events and for
   * events producers write straight to the broker. Opaque; never sent to subscribers.
   */
  readonly scope?: string | undefined;
}

/** An event once the log has stored it. Immutable; shared by every subscriber. */
export interface HeraldEvent {
  /** Position in the log: strictly increasing in log order, the same on every node. */
  readonly pos: number;
  /** The id sent as `id:`: the publisher's, or one the hub made (`<epoch>-<pos>`). */
  readonly id: string;
  readonly topics: readonly string[];
  readonly data: string;
  readonly type: string | undefined;
  readonly retry: number | undefined;
  readonly private: boolean;
  /** The publisher's scope (`PublishInput.scope`): it travels through the bus, never to subscribers. */
  readonly scope?: string | undefined;
  /** When the log stored it (ms since the Unix epoch); history max-age is measured from here. */
  readonly time: number;
  /** The event's wire bytes, encoded once and written to every subscriber. */
  readonly bytes: Uint8Array;
}

export interface PublishLimits {
  /** Longest accepted topic, in characters. */
  readonly maxTopicLength: number;
  /** Most topics one event may carry. */
  readonly maxTopicsPerEvent: number;
  /** Longest accepted id or event type, in characters. */
  readonly maxIdLength: number;
  /** Largest accepted `data`, in UTF-8 bytes (`payload_too_large` above it); absent = no limit. */
  readonly maxDataBytes?: number;
}

export const DEFAULT_PUBLISH_LIMITS: PublishLimits = {
  maxTopicLength: 256,
  maxTopicsPerEvent: 32,
  maxIdLength: 256,
};

/** Resuming from this id replays the whole history (`EARLIEST` in bus.ts): no event may carry it. */
const RESERVED_ID = "earliest";

// CR, LF and NUL would end or corrupt an SSE field line: they never reach the wire in `id`/`event`.
const FIELD_BREAKERS = /[\r\n\0]/;

/**
 * Whether `text` has no lone surrogate (half of a UTF-16 pair without its other half: no UTF-8
 * text, a URL, a header, the stream, can carry it). `String.prototype.isWellFormed`: native in
 * every Node Herald runs on (20+), missing only from TypeScript's ES2023 lib.
 */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Checks a topic (of a publish or a subscription). Throws `bad_request` naming the problem. */
export function validateTopic(topic: unknown, limits: PublishLimits, where = "topic"): string {
  if (typeof topic !== "string") throw badRequest(`${where} must be a string, got ${typeof topic}`);
  if (topic.length === 0) throw badRequest(`${where} must not be empty`);
  const long = charactersOver(topic, limits.maxTopicLength);
  if (long !== undefined) {
    throw badRequest(`${where} is ${long} characters long; the limit is ${limits.maxTopicLength}`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\0-\x1f\x7f-\x9f]/.test(topic)) {
    throw badRequest(`${where} must not contain control characters (C0, DEL or C1 such as U+0085)`);
  }
  if (!wellFormed(topic)) {
    throw badRequest(
      `${where} is not valid Unicode (a lone surrogate: a half of a UTF-16 pair); send UTF-8 text`,
    );
  }
  return topic;
}

/** Checks a publish. Throws `bad_request` with a message that says what to change. */
export function validatePublish(input: PublishInput, limits: PublishLimits = DEFAULT_PUBLISH_LIMITS): void {
  // the HTTP routes build inputs of the right shape; an embedding program's JS may not (a string
  // here would publish to each of its characters)
  if (!Array.isArray(input.topics))
    throw badRequest('"topics" must be an array of topic strings, such as ["news"]');
  if (input.private !== undefined && typeof input.private !== "boolean") {
    throw badRequest('"private" must be true or false');
  }
  if (input.topics.length === 0) throw badRequest('"topic" is required: a topic string or an array of them');
  if (input.topics.length > limits.maxTopicsPerEvent) {
    throw badRequest(
      `an event may have at most ${limits.maxTopicsPerEvent} topics, got ${input.topics.length}`,
    );
  }
  for (const topic of input.topics) validateTopic(topic, limits, '"topic"');
  if (typeof input.data !== "string") throw badRequest('"data" is required');
  if (!wellFormed(input.data)) {
    throw badRequest(
      '"data" is not valid Unicode (a lone surrogate: a half of a UTF-16 pair, such as "\\ud800"): the stream is UTF-8 and cannot carry it; send UTF-8 text',
    );
  }
  const maxDataBytes = limits.maxDataBytes;
  if (maxDataBytes !== undefined && input.data.length * 3 > maxDataBytes) {
    const size = utf8Length(input.data);
    if (size > maxDataBytes) {
      throw new HeraldError(
        "payload_too_large",
        `event data is ${size} bytes; the limit is ${maxDataBytes} bytes: send smaller events (or a link to the content)`,
      );
    }
  }
  checkField("id", input.id, limits.maxIdLength);
  if (input.id !== undefined) checkResumable(input.id);
  if (input.id === RESERVED_ID) {
    throw badRequest(
      `"id" must not be "${RESERVED_ID}": a Last-Event-ID "${RESERVED_ID}" asks for the whole history`,
    );
  }
  if (input.scope !== undefined && typeof input.scope !== "string")
    throw badRequest('"scope" must be a string');
  checkField("event", input.type, limits.maxIdLength);
  if (input.retry !== undefined && !(Number.isSafeInteger(input.retry) && input.retry >= 0)) {
    throw badRequest('"retry" must be a whole number of milliseconds, 0 or more');
  }
}

/** Control (C0, DEL, C1) and format characters (Cf: U+FEFF, zero-width and direction marks). */
const UNSEEN = /[\p{Cc}\p{Cf}]/u;
/** What a header value loses at either end (RFC 9110 optional whitespace). */
const HEADER_TRIMMED = /^[ \t]|[ \t]$/;

/**
 * An event id comes back as a `Last-Event-ID` header (or a URL parameter) when a client resumes:
 * an id that a header cannot carry unchanged (a space at an end is trimmed, a leading BOM dropped,
 * a control character refused by HTTP parsers; a lone surrogate, refused by `checkField`, becomes
 * U+FFFD) would resume from another event or none, so it is refused here, at publish, for every
 * publisher alike.
 */
function checkResumable(id: string): void {
  if (HEADER_TRIMMED.test(id)) {
    throw badRequest(
      '"id" must not start or end with a space or tab: a Last-Event-ID header loses them, so a resume would not find the event',
    );
  }
  if (UNSEEN.test(id)) {
    throw badRequest(
      '"id" must not contain control or format characters (such as U+0001, U+0085, U+200B, U+FEFF): a Last-Event-ID header cannot carry them back unchanged',
    );
  }
}

function checkField(name: string, value: string | undefined, maxLength: number): void {
  if (value === undefined) return;
  if (typeof value !== "string") throw badRequest(`"${name}" must be a string`);
  if (value.length === 0) throw badRequest(`"${name}" must not be empty; leave it out instead`);
  if (charactersOver(value, maxLength) !== undefined)
    throw badRequest(`"${name}" is longer than ${maxLength} characters`);
  if (FIELD_BREAKERS.test(value)) {
    throw badRequest(`"${name}" must not contain CR, LF or NUL: they would break the event-stream format`);
  }
  if (!wellFormed(value)) {
    throw badRequest(
      `"${name}" is not valid Unicode (a lone surrogate: a half of a UTF-16 pair); send UTF-8 text`,
    );
  }
}

const encoder = new TextEncoder();
/** Room for `encodeInto` to count the bytes of texts up to 4,096 characters without a loop in JavaScript. */
const scratch = new Uint8Array(3 * 4096);

/** The UTF-8 size of `text` in bytes (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length(text: string): number {
  if (text.length <= 4096) return encoder.encodeInto(text, scratch).written;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
