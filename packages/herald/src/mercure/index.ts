/**
 * The Mercure protocol on Herald's hub (docs/mercure.md): `/.well-known/mercure` for publishing
 * (POST) and subscribing (GET), and the subscriptions API under `/.well-known/mercure/subscriptions`.
 * Everything goes through the same Hub as Herald's own routes: same topics, history, bus, limits,
 * and the same stream path (http/sse/open-stream.ts).
 *
 *   const mercure = await createMercure({ hub, settings, log, inFlight, limits });
 *   // routes.ts mounts mercure.routes.subscribe, .publish, .subscriptions
 *
 * Files: publish.ts, subscribe.ts, subscriptions*.ts (the routes); selectors.ts, uri-template.ts,
 * nfa.ts (topic selectors); auth.ts, claims.ts, keys.ts (tokens, on the auth module's verifier).
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Limits } from "../access/limits.ts";
import type { JwtVerifier } from "../auth/index.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Hub } from "../core/hub.ts";
import type { InFlight } from "../http/in-flight.ts";
import type { Handler } from "../http/router.ts";
import { Streams } from "../http/sse/open-stream.ts";
import type { Logger } from "../ops/logger.ts";
import { MercureAuth } from "./auth.ts";
import type { MercureContext, MercureOptions } from "./context.ts";
import { sendMercureError } from "./http.ts";
import {
  checkAuthorizationServers,
  type MercureKeySettings,
  mercureIssuers,
  mercureVerifiers,
} from "./keys.ts";
import { handleMercurePublish } from "./publish.ts";
import { MercureSelectors } from "./selectors.ts";
import { handleMercureSubscribe, MERCURE_STREAMS } from "./subscribe.ts";
import { type ActiveSubscriber, SubscriptionRegistry } from "./subscriptions.ts";
import { handleSubscriptionsApi } from "./subscriptions-api.ts";
import { handleResourceMetadata } from "./v1/metadata.ts";
import { PublicUrls } from "./v1/public-urls.ts";

export const MERCURE_PATH = "/.well-known/mercure";
export { SUBSCRIPTIONS_PATH } from "./subscriptions.ts";
export { METADATA_PATH } from "./v1/identity.ts";

/** The settings the Mercure feature is built from. */
export type MercureSettings = MercureOptions &
  MercureKeySettings &
  Pick<
    HeraldConfig,
    | "maxTemplateSize"
    | "maxTemplatesPerIp"
    | "templateCacheBytes"
    | "mercureCookieName"
    | "mercurePublishOrigins"
    | "mercureSubscriptions"
    | "mercureHeartbeatMs"
    | "maxBufferedBytes"
    | "retryMs"
    | "mercureJwks"
    | "mercureResourceIdentifier"
    | "mercurePublicUrls"
    | "mercureAuthorizationServers"
  >;

export interface MercureDeps {
  readonly hub: Hub;
  readonly settings: MercureSettings;
  readonly log: Logger;
  /** Publishes run as in-flight work (graceful shutdown waits for them); streams and publishes are refused while stopping. */
  readonly inFlight: Pick<InFlight, "track" | "refuseWhenStopping">;
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
  /** The handlers routes.ts mounts on `MERCURE_PATH` and `SUBSCRIPTIONS_PATH`. */
  readonly routes: {
    /** GET and QUERY `MERCURE_PATH` (QUERY: the parameters in a form body). */
    readonly subscribe: Handler;
    /** POST `MERCURE_PATH`. */
    readonly publish: Handler;
    /** GET `SUBSCRIPTIONS_PATH` and every path under it. */
    readonly subscriptions: Handler;
    /** GET `METADATA_PATH`: the RFC 9728 protected-resource metadata. */
    readonly metadata: Handler;
  };
  /** Stops the Mercure heartbeat timer. */
  close(): void;
}

/** Builds the Mercure feature. Rejects when a MERCURE_* key does not load. */
export async function createMercure(deps: MercureDeps): Promise<MercureMount> {
  const { hub, settings, log } = deps;
  const publicUrls = new PublicUrls(settings.mercurePublicUrls); // throws for a value that is no URL
  const selectors = new MercureSelectors({
    maxTopicLength: settings.maxTopicLength,
    maxStates: settings.maxTemplateSize,
    perClient: settings.maxTemplatesPerIp,
    cacheBytes: settings.templateCacheBytes,
  });
  const verifiers = await mercureVerifiers(settings, deps.heraldVerifier);
  const streams = new Streams({
    hub,
    log,
    protocol: MERCURE_STREAMS,
    slots: deps.limits,
    refuseWhenStopping: deps.inFlight.refuseWhenStopping,
    maxBufferedBytes: settings.maxBufferedBytes,
    retryMs: settings.retryMs,
    heartbeatMs: settings.mercureHeartbeatMs,
  });
  const issuers = await mercureIssuers(settings, verifiers);
  checkAuthorizationServers(settings.mercureAuthorizationServers, issuers);
  const compat = settings.mercureProtocolCompatibility === 8;
  const context: MercureContext = {
    hub,
    options: settings,
    log,
    selectors,
    auth: new MercureAuth({
      verifiers,
      issuers,
      selectors,
      cookieName: settings.mercureCookieName,
      publishOrigins: settings.mercurePublishOrigins,
      compat,
      resourceIdentifier: settings.mercureResourceIdentifier,
      trustProxy: settings.trustProxy,
    }),
    subscriptions: settings.mercureSubscriptions ? new SubscriptionRegistry() : undefined,
    limits: deps.limits,
    allSubscribers: deps.allSubscribers,
    streams,
    connections: streams.connections,
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
  // A request to an origin outside MERCURE_PUBLIC_URLS is a 421 before anything else.
  const guarded =
    (handler: MercureHandler): Handler =>
    async (req, res, url) => {
      try {
        publicUrls.check(req, settings.trustProxy);
        await handler(context, req, res, url);
      } catch (error) {
        sendMercureError(res, error, log, context.auth.identity(req));
      }
    };
  return {
    context,
    routes: {
      subscribe: guarded((ctx, req, res, url) => {
        deps.inFlight.refuseWhenStopping(); // before the token is verified, as Herald's routes do
        return handleMercureSubscribe(ctx, req, res, url);
      }),
      publish: guarded((ctx, req, res, url) =>
        deps.inFlight.track(() => handleMercurePublish(ctx, req, res, url)),
      ),
      subscriptions: guarded(handleSubscriptionsApi),
      metadata: guarded(handleResourceMetadata),
    },
    close: () => streams.close(),
  };
}
