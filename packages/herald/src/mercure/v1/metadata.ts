import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../../http/errors.ts";
import type { MercureContext } from "../context.ts";
import { MATCHER_TYPES, MERCURE_DETAIL_TYPE } from "./details.ts";

/**
 * RFC 9728 protected-resource metadata of the hub (spec "Protected Resource Metadata"), at
 * `/.well-known/oauth-protected-resource/.well-known/mercure`: the resource identifier (the `aud`
 * of access tokens), the authorization servers when MERCURE_AUTHORIZATION_SERVERS lists some
 * (trusted issuers, checked at start), the authorization detail type, `header` as the bearer method, and Mercure's
 * members (the cookie, the matcher types, whether the subscriptions API is on). Served in both
 * protocol modes; 1.0 challenges point to it with `resource_metadata`.
 */
export async function handleResourceMetadata(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const identity = ctx.auth.identity(req);
  const metadata: Record<string, unknown> = {
    resource: identity.resource,
    ...(ctx.options.mercureAuthorizationServers.length > 0
      ? { authorization_servers: ctx.options.mercureAuthorizationServers }
      : {}),
    authorization_details_types_supported: [MERCURE_DETAIL_TYPE],
    bearer_methods_supported: ["header"],
    mercure_cookie: ctx.options.mercureCookieName,
    mercure_matcher_types_supported: [...MATCHER_TYPES],
  };
  if (ctx.subscriptions !== undefined) metadata.mercure_subscriptions = true;
  sendJson(res, 200, metadata, { "Access-Control-Allow-Origin": "*" });
}
