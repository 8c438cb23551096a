import { AuthError, invalidToken, type Principal } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import type { HeraldEvent } from "../core/event.ts";
import type { Hub } from "../core/hub.ts";
import type { CloseReason, Subscriber } from "../core/subscriber.ts";
import { parseSelector, selectorCovers, selectorText, type TopicSelector } from "../core/topic.ts";
import { STATUS_OF } from "../http/errors.ts";
import type { StreamWatcher } from "../http/sse/open-stream.ts";
import type { Stream } from "../http/sse/stream.ts";
import {
  type ControlRecord,
  digest,
  PROCESS_TAG,
  parseRecord,
  randomId,
  STREAM_ID,
} from "./control-records.ts";

/** How long a request waits for the answer of the process holding a stream on another node or worker. */
export const ANSWER_TIMEOUT_MS = 5000;
/** How long a ticket is valid (at most: never past its token's own expiry). */
export const TICKET_SECONDS = 30;

/** An answer to a control request: its HTTP status and JSON body. */
export interface ControlAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The credential of a stream request: its principal, and the digest of its token (undefined: anonymous). */
export interface StreamCredential {
  readonly principal: Principal;
  readonly auth: string | undefined;
}

/**
 * One `GET /events` stream of this process, as the control sees it: its id and topics, the digest
 * of its current token, its private grants. A `StreamWatcher` of the stream: known from `opening`
 * to `closed`.
 */
export class HeldStream implements StreamWatcher {
  subscriber: Subscriber | undefined;
  stream: Stream | undefined;
  ended = false;
  /** Told the stream's new topics when a change is applied (presence follows them). */
  onChange: ((selectors: readonly TopicSelector[]) => void) | undefined;

  constructor(
    private readonly control: StreamControl,
    readonly id: string,
    public topics: string[],
    public selectors: readonly TopicSelector[],
    public auth: string | undefined,
    readonly principalId: string,
    public grants: readonly TopicSelector[],
  ) {}

  opening(): Promise<void> {
    this.control.held.set(this.id, this);
    return Promise.resolve();
  }

  registered(subscriber: Subscriber, stream: Stream): void {
    this.subscriber = subscriber;
    this.stream = stream;
  }

  closed(_reason: CloseReason | undefined): void {
    this.ended = true;
    this.control.held.delete(this.id);
  }
}

interface Ticket {
  readonly exp: number;
  readonly tokenExp: number | null;
  readonly principal: string;
  readonly auth: string;
  readonly grants: readonly string[];
  used: boolean;
}

/** What a redeem record resolves to locally: the ticket's credential, or the refusal. */
type Redeemed = { readonly credential: StreamCredential } | { readonly refusal: string };

/** Logs what the control cannot do (an answer that could not be appended). */
export interface ControlLog {
  warn(fields: object, message: string): void;
}

/**
 * Live subscription changes, token renewals and tickets, across workers and nodes, through the
 * bus's ordered log (design: docs/streams.md).
 *
 * Every request becomes a control record (`ControlRecord`) appended to the log; every process
 * applies every record at its log position (`Hub.onControl`): the events before it were routed
 * with the old topic set, the events after it with the new one, so across a change no event is
 * lost or duplicated. The process holding the stream (named by the stream id's first part)
 * decides and applies; when the request came from another process it appends an `answer` record,
 * which the requesting process waits for (`ANSWER_TIMEOUT_MS`, then 404: the stream ended or its
 * node is gone).
 * Tickets: the `ticket` record holds the ticket's digest and its token's grants; a `redeem`
 * record uses it, and the first redeem of a ticket in log order wins on every process alike, so a
 * ticket opens one stream in the whole cluster. The requesting process waits for its own redeem
 * record to come back through the log: by then it has applied every record before it, the ticket's
 * too. A process that started after a ticket was issued does not know it: the ticket is refused
 * there (never accepted twice). When the bus cannot store (503), no ticket is issued or accepted.
 */
export class StreamControl {
  /** This process's open `GET /events` streams, by id. */
  readonly held = new Map<string, HeldStream>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly pending = new Map<number, (answer: ControlAnswer | Redeemed) => void>();
  private nextReq = 1;

  constructor(
    private readonly hub: Hub,
    private readonly options: { readonly maxTopics: number; readonly log: ControlLog },
  ) {
    hub.onControl((record) => this.apply(record));
  }

  /** A new stream's control state (its watcher), with a new id naming this process. */
  open(topics: readonly TopicSelector[], credential: StreamCredential): HeldStream {
    const { principal, auth } = credential;
    return new HeldStream(
      this,
      `${PROCESS_TAG}.${randomId()}`,
      topics.map(selectorText),
      topics,
      auth,
      principal.id,
      principal.subscribe,
    );
  }

  /** Changes a stream's topics (`POST /streams/{id}/topics`); `add`/`remove` were validated. */
  changeTopics(
    stream: string,
    auth: string | undefined,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<ControlAnswer> {
    return this.request(stream, (from, req) => ({
      k: "topics",
      from,
      req,
      stream,
      auth: auth ?? null,
      add,
      remove,
    }));
  }

  /** Renews a stream's token (`POST /streams/{id}/token`). */
  renewToken(stream: string, token: string, principal: Principal): Promise<ControlAnswer> {
    return this.request(stream, (from, req) => ({
      k: "token",
      from,
      req,
      stream,
      auth: digest(token),
      principal: principal.id,
      exp: principal.expiresAt ?? null,
      grants: principal.subscribe.map(selectorText),
    }));
  }

  /** Issues a ticket for `token` (`POST /tickets`): answered once this process knows it. */
  async issueTicket(token: string, principal: Principal): Promise<{ ticket: string; expiresIn: number }> {
    const ticket = randomId();
    const now = Date.now();
    const exp = Math.min(now + TICKET_SECONDS * 1000, principal.expiresAt ?? Number.POSITIVE_INFINITY);
    const req = this.nextReq++;
    const applied = this.wait(req);
    await this.append(
      {
        k: "ticket",
        from: PROCESS_TAG,
        req,
        t: digest(ticket),
        exp,
        tokenExp: principal.expiresAt ?? null,
        principal: principal.id,
        auth: digest(token),
        grants: principal.subscribe.map(selectorText),
      },
      req,
    );
    await applied;
    return { ticket, expiresIn: Math.max(0, Math.floor((exp - now) / 1000)) };
  }

  /** Uses a ticket (`GET /events?ticket=`): its credential, or 401 when unknown, used or expired. */
  async redeem(ticket: string): Promise<StreamCredential> {
    const req = this.nextReq++;
    const outcome = this.wait(req) as Promise<Redeemed>;
    await this.append({ k: "redeem", from: PROCESS_TAG, req, t: digest(ticket) }, req);
    const redeemed = await outcome;
    if ("refusal" in redeemed) throw invalidToken(redeemed.refusal);
    return redeemed.credential;
  }

  private async request(
    stream: string,
    record: (from: string, req: number) => ControlRecord,
  ): Promise<ControlAnswer> {
    const tag = STREAM_ID.exec(stream)?.[1];
    if (tag === undefined || (tag === PROCESS_TAG && !this.held.has(stream))) return notFound(stream);
    const req = this.nextReq++;
    const answered = this.wait(req) as Promise<ControlAnswer>;
    let timer: NodeJS.Timeout | undefined;
    if (tag !== PROCESS_TAG) {
      timer = setTimeout(() => this.settle(req, notFound(stream)), ANSWER_TIMEOUT_MS);
    }
    try {
      await this.append(record(PROCESS_TAG, req), req);
      return await answered;
    } finally {
      clearTimeout(timer);
    }
  }

  private wait(req: number): Promise<ControlAnswer | Redeemed> {
    return new Promise((resolve) => this.pending.set(req, resolve));
  }

  private settle(req: number, answer: ControlAnswer | Redeemed): void {
    const resolve = this.pending.get(req);
    this.pending.delete(req);
    resolve?.(answer);
  }

  private async append(record: ControlRecord, req: number): Promise<void> {
    try {
      await this.hub.appendControl(JSON.stringify(record));
    } catch (error) {
      this.pending.delete(req);
      throw error;
    }
  }

  /** The hub's control listener: every record, at its log position, on every process. */
  private apply(event: HeraldEvent): void {
    const record = parseRecord(event.data);
    if (record === undefined) return;
    switch (record.k) {
      case "topics":
      case "token": {
        const held = this.held.get(record.stream);
        const mine = STREAM_ID.exec(record.stream)?.[1] === PROCESS_TAG;
        if (!mine) return;
        const answer =
          held === undefined || held.ended
            ? notFound(record.stream)
            : record.k === "topics"
              ? this.applyTopics(held, record)
              : this.applyToken(held, record);
        this.answer(record.from, record.req, answer);
        return;
      }
      case "answer":
        if (record.to === PROCESS_TAG) this.settle(record.req, { status: record.status, body: record.body });
        return;
      case "ticket":
        this.sweepTickets(event.time);
        this.tickets.set(record.t, { ...record, used: false });
        if (record.from === PROCESS_TAG) this.settle(record.req, { status: 200, body: {} });
        return;
      case "redeem": {
        const outcome = this.use(record.t, event.time);
        if (record.from === PROCESS_TAG) this.settle(record.req, outcome);
        return;
      }
    }
  }

  private answer(to: string, req: number, answer: ControlAnswer): void {
    if (to === PROCESS_TAG) {
      this.settle(req, answer);
      return;
    }
    const record: ControlRecord = { k: "answer", to, req, status: answer.status, body: answer.body };
    this.hub.appendControl(JSON.stringify(record)).catch((error: unknown) => {
      this.options.log.warn(
        { err: error },
        "could not answer a stream change from another node (it times out)",
      );
    });
  }

  private applyTopics(held: HeldStream, record: Extract<ControlRecord, { k: "topics" }>): ControlAnswer {
    const refused = refusedAuth(held, record.auth);
    if (refused !== undefined) return refused;
    const removed = new Set(record.remove);
    const topics = held.topics.filter((topic) => !removed.has(topic));
    for (const topic of record.add) if (!topics.includes(topic)) topics.push(topic);
    if (topics.length === 0) {
      return failure(badRequest("a stream needs at least one topic: this change would remove them all"));
    }
    if (topics.length > this.options.maxTopics) {
      return failure(
        badRequest(
          `a subscription may name at most ${this.options.maxTopics} topics (HERALD_MAX_TOPICS); this change would make ${topics.length}`,
        ),
      );
    }
    // kept topics keep their selector objects: the index moves only what changed
    const selectors = topics.map((topic) => {
      const at = held.topics.indexOf(topic);
      return at >= 0 ? (held.selectors[at] as TopicSelector) : parseSelector(topic);
    });
    held.topics = topics;
    held.selectors = selectors;
    if (held.subscriber !== undefined) this.hub.resubscribe(held.subscriber, selectors);
    held.onChange?.(selectors);
    return { status: 200, body: { id: held.id, topics } };
  }

  private applyToken(held: HeldStream, record: Extract<ControlRecord, { k: "token" }>): ControlAnswer {
    if (held.auth === undefined) {
      return failure(
        forbidden("this stream was opened without a token: it does not expire, there is nothing to renew"),
      );
    }
    if (!held.principalId.startsWith("sub:") || record.principal !== held.principalId) {
      return failure(
        forbidden(
          "the new token's sub claim is not the stream's: a stream is renewed with a token for the same subject (sub)",
        ),
      );
    }
    const grants = record.grants.map(parseSelector);
    const missing = held.grants.filter((need) => !grants.some((grant) => selectorCovers(grant, need)));
    if (missing.length > 0) {
      return failure(
        forbidden(
          `the new token grants fewer private topics than the stream holds: its subscribe claim must also cover ${missing
            .map((s) => JSON.stringify(selectorText(s)))
            .join(", ")}`,
        ),
      );
    }
    held.auth = record.auth;
    held.grants = grants;
    if (held.subscriber !== undefined) this.hub.resubscribe(held.subscriber, held.selectors, grants);
    held.stream?.expireAt(record.exp ?? undefined);
    return {
      status: 200,
      body: { id: held.id, exp: record.exp === null ? null : Math.floor(record.exp / 1000) },
    };
  }

  /**
   * What a redeem of `ticket` would answer now, without using it (`HEAD /events?ticket=`: a HEAD
   * opens no stream, so it must not spend the ticket). From this process's view of the log: a
   * ticket used on another process a moment ago may still look unused here.
   */
  peek(ticket: string): StreamCredential {
    const outcome = this.use(digest(ticket), Date.now(), false);
    if ("refusal" in outcome) throw invalidToken(outcome.refusal);
    return outcome.credential;
  }

  /** The outcome of a redeem record, the same on every process: the first redeem of a ticket wins. */
  private use(t: string, time: number, spend = true): Redeemed {
    const ticket = this.tickets.get(t);
    if (ticket === undefined) {
      return {
        refusal:
          "unknown ticket: it was never issued here, or it expired; ask your server for a new one (POST /tickets)",
      };
    }
    if (ticket.used) {
      return {
        refusal:
          "this ticket was used already: a ticket opens one stream, once; ask your server for a new one (POST /tickets)",
      };
    }
    if (spend) ticket.used = true;
    if (time > ticket.exp) {
      return {
        refusal: "this ticket expired (tickets last 30 s); ask your server for a new one (POST /tickets)",
      };
    }
    const principal: Principal = {
      id: ticket.principal,
      anonymous: false,
      publish: [],
      subscribe: ticket.grants.map(parseSelector),
      expiresAt: ticket.tokenExp ?? undefined,
    };
    return { credential: { principal, auth: ticket.auth } };
  }

  /** Forgets tickets expired for a minute (in issue order: mostly expiry order). */
  private sweepTickets(now: number): void {
    for (const [t, ticket] of this.tickets) {
      if (ticket.exp > now - 60_000) return;
      this.tickets.delete(t);
    }
  }
}

/** Checks the request's token digest against the stream's (anonymous streams: no token). */
function refusedAuth(held: HeldStream, auth: string | null): ControlAnswer | undefined {
  if (held.auth === undefined) {
    if (auth === null) return undefined;
    return failure(
      forbidden("this stream was opened without a token: change it without one (its id is the capability)"),
    );
  }
  if (auth === null) {
    return failure(
      new AuthError(
        "unauthorized",
        undefined,
        'this stream was opened with a token: send the same one ("Authorization: Bearer <token>" or the auth cookie)',
      ),
    );
  }
  if (auth !== held.auth) {
    return failure(
      forbidden(
        "this is not the token the stream holds: send the token it was opened with (or its last renewal, POST /streams/{id}/token)",
      ),
    );
  }
  return undefined;
}

const forbidden = (message: string) => new AuthError("forbidden", "insufficient_scope", message);

function failure(error: HeraldError): ControlAnswer {
  return { status: STATUS_OF[error.code], body: { error: error.code, message: error.message } };
}

function notFound(stream: string): ControlAnswer {
  return failure(
    new HeraldError(
      "not_found",
      `no open stream ${JSON.stringify(stream.slice(0, 64))}: it ended (or its node did not answer within ${ANSWER_TIMEOUT_MS / 1000} s); open a new one`,
    ),
  );
}
