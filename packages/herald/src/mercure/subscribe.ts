import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment } from "../core/encoder.ts";
import { HeraldError } from "../core/errors.ts";
import type { CloseReason } from "../core/subscriber.ts";
import { clientIp } from "../http/client-ip.ts";
import { SSE_HEADERS } from "../http/sse/connection.ts";
import type { StreamProtocol } from "../http/sse/head.ts";
import type { StreamWatcher } from "../http/sse/open-stream.ts";
import type { MercureContext } from "./context.ts";
import { type ActiveSubscriber, subscriptionUpdates } from "./subscriptions.ts";
import { planSubscription } from "./v1/plan.ts";

/**
 * Mercure's streams: Herald's headers with caching ruled out as the Mercure hub does; a resuming
 * stream's `Last-Event-ID` response header says how the resume went.
 */
export const MERCURE_STREAMS: StreamProtocol = {
  name: "mercure",
  headers: { ...SSE_HEADERS, "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0" },
  lastEventId: "resume-outcome",
  reusedIds: "earliest", // spec "Reconnection": the earliest such update in the hub's history
};

/** The comment a stream ends with at its maximum lifetime (MERCURE_WRITE_TIMEOUT). */
const LIFETIME_REACHED = encodeComment("connection lifetime reached (MERCURE_WRITE_TIMEOUT): reconnect");

/**
 * Mercure subscribe: `GET /.well-known/mercure?match=<topic>&match_urlpattern=<URL pattern>...`
 * (1.0), or `?topic=<selector>` (0.x, compatibility mode). `planSubscription` (v1/plan.ts) reads
 * the request and the token and holds the URL patterns and URI templates: an update is sent when
 * its canonical topic or an alternate matches a matcher, and, when private, when one of its topics
 * matches the token's subscribe grants (anonymous subscribers never get private updates).
 *
 * Resume: the `Last-Event-ID` header, else `last_event_id` (0.x: `lastEventID`); `earliest` = all
 * the history holds. Then the response carries the resume outcome, in `Mercure-Last-Event-ID`
 * (1.0) or `Last-Event-ID` (0.x): the requested id when the hub resumed from it (`earliest` for
 * `earliest`), else `earliest` (the id is unknown or too old; Herald also sends its
 * `herald.missed` event). The stream closes when the token expires (spec "Subscribers": no later
 * than `exp`), and after its maximum lifetime (MERCURE_WRITE_TIMEOUT, the Mercure hub's
 * write_timeout: a random 80-100% of it, as that hub does, so clients of one moment do not all
 * reconnect at once), with a comment saying so; the client reconnects and resumes.
 *
 * This parses Mercure's request; the stream itself is Herald's one stream path (`Streams`: limits,
 * expiry, heartbeats, slow clients, the end).
 */
export async function handleMercureSubscribe(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const ip = clientIp(req, ctx.options.trustProxy);
  // Compiled templates and URL patterns are held (and counted for this IP) while the stream lives:
  // 400 for one too complex, 429 over HERALD_MAX_TEMPLATES_PER_IP, 503 when the cache is full.
  const plan = await planSubscription(ctx, req, url, ip);
  let release: () => void;
  try {
    release = await ctx.streams.admit(ip, req); // Herald's stream limits: 429/503 with Retry-After
  } catch (error) {
    plan.release();
    throw error;
  }
  await ctx.streams.open(req, res, {
    selectors: plan.selectors,
    privateSelectors: plan.privateSelectors,
    lastEventId: plan.lastEventId,
    expiresAt: plan.expiresAt,
    endsAt: lifetimeEnd(ctx.options.mercureWriteTimeoutMs),
    release,
    resumeHeader: plan.resumeHeader,
    watcher: new MercureStream(ctx, plan, ctx.subscriptions === undefined ? undefined : plan.subscriber),
  });
}

/** When a stream opened now ends (MERCURE_WRITE_TIMEOUT, jittered as the Mercure hub does); 0 = never. */
function lifetimeEnd(timeoutMs: number): { at: number; comment: Uint8Array } | undefined {
  if (timeoutMs <= 0) return undefined;
  return { at: Date.now() + timeoutMs * (0.8 + 0.2 * Math.random()), comment: LIFETIME_REACHED };
}

/**
 * What a Mercure stream holds besides Herald's: its compiled templates, and, with the
 * subscriptions API on, its place in the registry, announced by subscription events when it
 * opens and when it ends.
 */
class MercureStream implements StreamWatcher {
  private listed = false;

  constructor(
    private readonly ctx: MercureContext,
    private readonly held: { release(): void },
    /** Its entry in the subscriptions API (MERCURE_SUBSCRIPTIONS), else undefined. */
    private readonly me: ActiveSubscriber | undefined,
  ) {}

  async opening(): Promise<void> {
    const registry = this.ctx.subscriptions;
    if (registry === undefined || this.me === undefined) return;
    await announce(this.ctx, this.me, true);
    registry.add(this.me);
    this.listed = true;
  }

  closed(_reason: CloseReason | undefined): void {
    this.held.release();
    const me = this.me;
    if (!this.listed || me === undefined) return;
    this.listed = false;
    this.ctx.subscriptions?.remove(me.id);
    announce(this.ctx, me, false).catch((error: unknown) => {
      this.ctx.log.debug({ err: error }, "mercure: unsubscription event not published");
    });
  }
}

/**
 * Publishes the subscription events of `subscriber`. An event whose topic or data breaks Herald's
 * limits (a selector near HERALD_MAX_TOPIC_LENGTH makes a longer subscription topic; a big
 * `mercure.payload`) is skipped with a warning rather than refusing the subscriber; a bus that
 * cannot store (`unavailable`) refuses it.
 */
async function announce(ctx: MercureContext, subscriber: ActiveSubscriber, active: boolean): Promise<void> {
  const updates = subscriptionUpdates(subscriber, active);
  for (const update of updates) {
    try {
      await ctx.hub.publish([update]);
    } catch (error) {
      if (error instanceof HeraldError && error.code === "unavailable") throw error;
      ctx.log.warn(
        { err: error, subscriber: subscriber.id, topic: update.topics[0] },
        "mercure: subscription event not published (raise HERALD_MAX_TOPIC_LENGTH or HERALD_MAX_EVENT_SIZE)",
      );
    }
  }
}
