import type { Limits } from "../access/limits.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Hub } from "../core/hub.ts";
import type { SseConnection } from "../http/sse/connection.ts";
import type { Streams } from "../http/sse/open-stream.ts";
import type { Logger } from "../ops/logger.ts";
import type { MercureAuth } from "./auth.ts";
import type { MercureSelectors } from "./selectors.ts";
import type { ActiveSubscriber, SubscriptionRegistry } from "./subscriptions.ts";

/** The settings the Mercure routes read. */
export type MercureOptions = Pick<
  HeraldConfig,
  | "maxBodyBytes"
  | "maxTopics"
  | "maxTopicLength"
  | "mercureAnonymous"
  | "trustProxy"
  | "mercureCookieName"
  | "mercureAuthorizationServers"
  | "mercureWriteTimeoutMs"
>;

/** What the Mercure routes share: Herald's hub (same topics, history, bus, limits) plus Mercure's parts. */
export interface MercureContext {
  readonly hub: Hub;
  readonly options: MercureOptions;
  readonly log: Logger;
  readonly auth: MercureAuth;
  readonly selectors: MercureSelectors;
  /** Present when MERCURE_SUBSCRIPTIONS is on. */
  readonly subscriptions: SubscriptionRegistry | undefined;
  /** Herald's publish rate limit (for the whole machine with --workers), shared by both APIs. */
  readonly limits: Pick<Limits, "takePublish">;
  /** With `--workers N`: every worker's active subscribers (else the registry's are this node's). */
  readonly allSubscribers?: (() => Promise<ActiveSubscriber[]>) | undefined;
  /** Mercure's streams, on Herald's one stream path (http/sse/open-stream.ts). */
  readonly streams: Streams;
  /** Open Mercure streams (`streams.connections`, for leak checks). */
  readonly connections: ReadonlySet<SseConnection>;
}
