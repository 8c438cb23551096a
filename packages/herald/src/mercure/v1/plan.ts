import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AuthError } from "../../core/auth.ts";
import type { TopicSelector } from "../../core/topic.ts";
import type { MercureClaims } from "../claims.ts";
import type { MercureContext } from "../context.ts";
import type { UrlPatternMatcher } from "../selectors.ts";
import type { ActiveSubscriber, MatcherSubscription } from "../subscriptions.ts";
import { payloadFor } from "./details.ts";
import { subscribeBody } from "./query-body.ts";
import { parseSubscribeRequest } from "./subscribe-request.ts";

/** What one Mercure subscribe request subscribes to, checked, with its URL patterns held. */
export interface SubscriptionPlan {
  /** 1: a 1.0 request; 0: a 0.x request (compatibility mode, `topic=` only). */
  readonly generation: 0 | 1;
  /** The subscriber's token, undefined when anonymous. */
  readonly claims: MercureClaims | undefined;
  /** What the stream receives (0.x selectors, 1.0 matchers), for the hub. */
  readonly selectors: readonly TopicSelector[];
  /** Topics on which it may receive private updates (the token's subscribe grants). */
  readonly privateSelectors: readonly TopicSelector[];
  /** The subscriber as the subscriptions API and subscription events show it. */
  readonly subscriber: ActiveSubscriber;
  readonly lastEventId: string | undefined;
  /** The response header that carries the resume point: `Mercure-Last-Event-ID` (1.0), `Last-Event-ID` (0.x). */
  readonly resumeHeader: "Mercure-Last-Event-ID" | "Last-Event-ID";
  /** When the stream must end (the token's `exp`, ms since the epoch); undefined = never. */
  readonly expiresAt: number | undefined;
  /** Gives back the compiled templates and URL patterns it holds; idempotent. */
  release(): void;
}

/**
 * Plans a Mercure subscription (spec "Subscription"; docs/mercure.md): reads the parameters, of
 * the query component and of a `QUERY`'s form body (query-body.ts, subscribe-request.ts: 400 for a
 * bad one, 413/415 for a bad body), the token (401 `invalid_token` for a bad one, even
 * when anonymous subscribers are allowed; 401 with a bare challenge for none when they are not),
 * then holds the URI templates (0.x) and URL patterns (1.0) the stream uses, within their limits
 * (400 too complex, 429 too many for this client IP, 503 cache full). `*` matches every topic
 * whatever its type; `match` / `match_exact` are byte-for-byte. Subscription payloads: for a 1.0
 * token, the first subscribe detail matching the subscription's own matcher; for a 0.x token,
 * `mercure.payload`.
 */
export async function planSubscription(
  ctx: MercureContext,
  req: IncomingMessage,
  url: URL,
  client: string,
): Promise<SubscriptionPlan> {
  const body = await subscribeBody(req, ctx.options.maxBodyBytes); // QUERY: the parameters in the body
  const request = parseSubscribeRequest(
    req,
    url,
    { compat: ctx.auth.compat, maxMatchers: ctx.options.maxTopics, maxLength: ctx.options.maxTopicLength },
    body,
  );
  const identity = ctx.auth.identity(req);
  const claims = await ctx.auth.subscriber(req, url, identity);
  if (claims === undefined && ctx.auth.subscriberAuth && !ctx.options.mercureAnonymous) {
    throw new AuthError(
      "unauthorized",
      undefined,
      "this hub does not allow anonymous subscribers: present an access token (Authorization header, or the cookie)",
    );
  }
  const exact: TopicSelector[] = [];
  const patterns: UrlPatternMatcher[] = [];
  for (const matcher of request.matchers) {
    if (matcher.match === "*") exact.push({ kind: "all" });
    else if (matcher.type === "exact") exact.push({ kind: "exact", topic: matcher.match });
    else patterns.push({ type: "urlpattern", pattern: matcher.match, base: identity.base });
  }
  const held = await ctx.selectors.hold([...request.topics, ...patterns], client);
  const matchers: MatcherSubscription[] = request.matchers.map((m) => {
    const payload = claims?.grants !== undefined ? payloadFor(claims.grants, m.match) : claims?.payload;
    return payload === undefined
      ? { type: m.type, match: m.match }
      : { type: m.type, match: m.match, payload };
  });
  return {
    generation: request.generation,
    claims,
    selectors: [...held.selectors, ...exact],
    privateSelectors: claims?.subscribe ?? [],
    subscriber: {
      id: `urn:uuid:${randomUUID()}`,
      topics: request.topics,
      payload: claims?.grants === undefined ? claims?.payload : undefined,
      matchers,
    },
    lastEventId: request.lastEventId,
    resumeHeader: request.generation === 1 ? "Mercure-Last-Event-ID" : "Last-Event-ID",
    expiresAt: claims?.expiresAt,
    release: held.release,
  };
}
