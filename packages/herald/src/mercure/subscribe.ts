import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { HeraldError } from "../core/errors.ts";
import type { CloseReason } from "../core/subscriber.ts";
import { clientIp } from "../http/client-ip.ts";
import { SSE_HEADERS } from "../http/sse/connection.ts";
import type { StreamProtocol } from "../http/sse/head.ts";
import type { StreamWatcher } from "../http/sse/open-stream.ts";
import { queryTopics, resumeFrom } from "../http/sse/request.ts";
import type { MercureClaims } from "./claims.ts";
import type { MercureContext } from "./context.ts";
import type { HeldSelectors } from "./selectors.ts";
import { type ActiveSubscriber, subscriptionUpdates } from "./subscriptions.ts";

/**
 * Mercure's streams: Herald's headers with caching ruled out as the Mercure hub does; a resuming
 * stream's `Last-Event-ID` response header says how the resume went.
 */
export const MERCURE_STREAMS: StreamProtocol = {
  name: "mercure",
  headers: { ...SSE_HEADERS, "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0" },
  lastEventId: "resume-outcome",
};

/**
 * Mercure subscribe: `GET /.well-known/mercure?topic=<selector>[&topic=...]`. Selectors are exact
 * strings, `*`, or URI templates (selectors.ts); an update is sent when its canonical topic or an
 * alternate matches one, and, when private, when one of its topics matches the token's
 * `mercure.subscribe` (anonymous subscribers never get private updates).
 *
 * Resume: the `Last-Event-ID` header, else the `lastEventID` query parameter (`earliest` = all the
 * history holds). Then the response carries `Last-Event-ID`: the requested id when the hub resumed
 * from it (`earliest` for `earliest`), else `earliest` (the id is unknown or too old; Herald also
 * sends its `herald.missed` event). The stream closes when the token expires.
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
  const claims = await ctx.auth.subscriber(req, url);
  if (claims === undefined && ctx.auth.subscriberAuth && !ctx.options.mercureAnonymous) {
    throw new AuthError(
      "unauthorized",
      undefined,
      'this hub does not allow anonymous subscribers: present a JWT (Authorization header, "authorization" query parameter or cookie)',
    );
  }
  const topics = queryTopics(
    url,
    ctx.options,
    'missing "topic": subscribe with ?topic=<selector> (an exact topic, * or a URI template)',
  );
  const lastEventId = resumeFrom(req, url, "lastEventID");
  const ip = clientIp(req, ctx.options.trustProxy);
  // Compiled templates are held (and counted for this IP) while the stream lives: 400 for a
  // template too complex, 429 over HERALD_MAX_TEMPLATES_PER_IP, 503 when the cache is full.
  const held = await ctx.selectors.hold(topics, ip);
  let release: () => void;
  try {
    release = await ctx.streams.admit(ip); // Herald's stream limits: 429/503 with Retry-After
  } catch (error) {
    held.release();
    throw error;
  }
  const me = ctx.subscriptions === undefined ? undefined : subscriberOf(topics, claims);
  await ctx.streams.open(req, res, {
    selectors: held.selectors,
    privateSelectors: claims?.subscribe ?? [],
    lastEventId,
    expiresAt: claims?.expiresAt,
    release,
    watcher: new MercureStream(ctx, held, me),
  });
}

function subscriberOf(topics: string[], claims: MercureClaims | undefined): ActiveSubscriber {
  return { id: `urn:uuid:${randomUUID()}`, topics, payload: claims?.payload };
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
    private readonly held: HeldSelectors,
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
