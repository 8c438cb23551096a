import type { Limits } from "../access/limits.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Hub } from "../core/hub.ts";
import type { SseConnection } from "../http/sse/connection.ts";
import type { Logger } from "../ops/logger.ts";
import type { MercureAuth } from "./auth.ts";
import type { MercureSelectors } from "./selectors.ts";
import type { ActiveSubscriber, SubscriptionRegistry } from "./subscriptions.ts";

/** What the Mercure routes share: Herald's hub (same topics, history, bus, limits) plus Mercure's parts. */
export interface MercureContext {
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly log: Logger;
  readonly auth: MercureAuth;
  readonly selectors: MercureSelectors;
  /** Present when MERCURE_SUBSCRIPTIONS is on. */
  readonly subscriptions: SubscriptionRegistry | undefined;
  /** Herald's stream and publish rate limits (for the whole machine with --workers), shared by both APIs. */
  readonly limits: Limits;
  /** With `--workers N`: every worker's active subscribers (else the registry's are this node's). */
  readonly allSubscribers?: (() => Promise<ActiveSubscriber[]>) | undefined;
  /** Open Mercure streams (for their heartbeat and leak checks). */
  readonly connections: Set<SseConnection>;
}
