import type { Hub } from "../../core/hub.ts";
import type { HeraldConfig } from "../config.ts";
import type { ConnectionLimiter } from "../connection-limiter.ts";
import type { Logger } from "../logger.ts";
import type { RateLimiter } from "../rate-limiter.ts";
import type { SseConnection } from "../sse-connection.ts";
import type { MercureAuth } from "./auth.ts";
import type { MercureSelectors } from "./selectors.ts";
import type { SubscriptionRegistry } from "./subscriptions.ts";

/** What the Mercure routes share: Herald's hub (same topics, history, bus, limits) plus Mercure's parts. */
export interface MercureContext {
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly log: Logger;
  readonly auth: MercureAuth;
  readonly selectors: MercureSelectors;
  /** Present when MERCURE_SUBSCRIPTIONS is on. */
  readonly subscriptions: SubscriptionRegistry | undefined;
  /** Herald's open-stream limits (total and per IP), shared by both APIs. */
  readonly streamLimits: ConnectionLimiter;
  /** Herald's publish rate limit, shared by both APIs. */
  readonly publishRate: RateLimiter;
  /** Open Mercure streams (for their heartbeat and leak checks). */
  readonly connections: Set<SseConnection>;
}
