/**
 * The Mercure protocol on Herald's hub (docs/mercure.md): `/.well-known/mercure` for publishing
 * (POST) and subscribing (GET), and the subscriptions API under `/.well-known/mercure/subscriptions`.
 * Everything goes through the same Hub as Herald's own routes: same topics, history, bus, limits.
 *
 *   const mercure = await mountMercure(router, { hub, config, log, track, refuseWhenStopping });
 *
 * Files: publish.ts, subscribe.ts, subscriptions*.ts (the routes); selectors.ts, uri-template.ts,
 * nfa.ts (topic selectors); auth.ts, claims.ts, keys.ts (tokens, on the auth module's verifier).
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Limits } from "../access/limits.ts";
import type { JwtVerifier } from "../auth/index.ts";
import type { HeraldConfig } from "../config/settings.ts";
import { encodeComment } from "../core/encoder.ts";
import type { Hub } from "../core/hub.ts";
import type { Handler, Router } from "../http/router.ts";
import type { SseConnection } from "../http/sse/connection.ts";
import type { Logger } from "../ops/logger.ts";
import { MercureAuth } from "./auth.ts";
import type { MercureContext } from "./context.ts";
import { sendMercureError } from "./http.ts";
import { mercureIssuers, mercureVerifiers } from "./keys.ts";
import { handleMercurePublish } from "./publish.ts";
import { MercureSelectors } from "./selectors.ts";
import { handleMercureSubscribe } from "./subscribe.ts";
import { type ActiveSubscriber, SUBSCRIPTIONS_PATH, SubscriptionRegistry } from "./subscriptions.ts";
import { handleSubscriptionsApi } from "./subscriptions-api.ts";
import { METADATA_PATH } from "./v1/identity.ts";
import { handleResourceMetadata } from "./v1/metadata.ts";

export const MERCURE_PATH = "/.well-known/mercure";

export interface MercureDeps {
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly log: Logger;
  /** Runs a publish as in-flight work (graceful shutdown waits for it; refused while stopping). */
  readonly track: (work: () => Promise<void>) => Promise<void>;
  /** Throws `unavailable` while Herald shuts down. */
  readonly refuseWhenStopping: () => void;
  /** Herald's stream and publish rate limits (for the whole machine with --workers), shared by both APIs. */
  readonly limits: Limits;
  /** Herald's own configured key, used when no MERCURE_* key is set (not the random dev secret). */
  readonly heraldVerifier?: JwtVerifier | undefined;
  /** With `--workers N`: every worker's active subscribers, for the subscriptions API. */
  readonly allSubscribers?: (() => Promise<ActiveSubscriber[]>) | undefined;
}

type MercureHandler = (
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => Promise<void>;

export interface MercureMount {
  readonly context: MercureContext;
  /** Stops the Mercure heartbeat timer. */
  close(): void;
}

/** Adds the Mercure routes to `router`. Rejects when a MERCURE_* key does not load. */
export async function mountMercure(router: Router, deps: MercureDeps): Promise<MercureMount> {
  const { hub, config, log } = deps;
  const selectors = new MercureSelectors({
    maxTopicLength: config.maxTopicLength,
    maxStates: config.maxTemplateSize,
    perClient: config.maxTemplatesPerIp,
    cacheBytes: config.templateCacheBytes,
  });
  const verifiers = await mercureVerifiers(config, deps.heraldVerifier);
  const issuers = await mercureIssuers(config, verifiers);
  const compat = config.mercureProtocolCompatibility === 8;
  const context: MercureContext = {
    hub,
    config,
    log,
    selectors,
    auth: new MercureAuth({
      verifiers,
      issuers,
      selectors,
      cookieName: config.mercureCookieName,
      publishOrigins: config.mercurePublishOrigins,
      compat,
      resourceIdentifier: config.mercureResourceIdentifier,
      trustProxy: config.trustProxy,
    }),
    subscriptions: config.mercureSubscriptions ? new SubscriptionRegistry() : undefined,
    limits: deps.limits,
    allSubscribers: deps.allSubscribers,
    connections: new Set<SseConnection>(),
  };
  if (compat) {
    log.warn(
      "MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8: Mercure 0.x clients are served too; 0.x tokens are accepted without the checks of 1.0 (typ at+jwt, exp, aud, iss) and may come in the URL (the authorization query parameter): turn it off once every client speaks 1.0",
    );
  }
  if (!context.auth.publishingEnabled) {
    log.info(
      "Mercure publishing is off: set MERCURE_ISSUER and MERCURE_PUBLISHER_JWT_KEY or MERCURE_JWT_KEY (or MERCURE_JWKS) to enable it",
    );
  } else if (issuers.length === 0) {
    log.info(
      "Mercure 1.0 access tokens are refused: no issuer is trusted (set MERCURE_ISSUER or MERCURE_JWKS)",
    );
  }

  // Errors are answered here as the Mercure hub does (text/plain), not by Herald's JSON writer.
  const guarded =
    (handler: MercureHandler): Handler =>
    async (req, res, url) => {
      try {
        await handler(context, req, res, url);
      } catch (error) {
        sendMercureError(res, error, log, context.auth.identity(req));
      }
    };
  router
    .add(
      "GET",
      MERCURE_PATH,
      guarded((ctx, req, res, url) => {
        deps.refuseWhenStopping();
        return handleMercureSubscribe(ctx, req, res, url);
      }),
    )
    .add(
      "POST",
      MERCURE_PATH,
      guarded((ctx, req, res, url) => deps.track(() => handleMercurePublish(ctx, req, res, url))),
    )
    .add("GET", METADATA_PATH, guarded(handleResourceMetadata))
    .add("GET", SUBSCRIPTIONS_PATH, guarded(handleSubscriptionsApi))
    .addPrefix("GET", `${SUBSCRIPTIONS_PATH}/`, guarded(handleSubscriptionsApi));

  const heartbeat = encodeComment("heartbeat");
  const timer = setInterval(() => {
    for (const connection of context.connections) connection.write(heartbeat);
  }, config.mercureHeartbeatMs);
  timer.unref();
  return { context, close: () => clearInterval(timer) };
}
