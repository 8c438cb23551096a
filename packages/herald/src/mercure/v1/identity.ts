import type { IncomingMessage } from "node:http";
import { isSecure } from "../../http/client-ip.ts";

/** The path of the hub (spec "Discovery": the default hub URL). */
export const HUB_PATH = "/.well-known/mercure";
/** Where RFC 9728 puts the protected-resource metadata of a resource at HUB_PATH. */
export const METADATA_PATH = `/.well-known/oauth-protected-resource${HUB_PATH}`;

/** Who the hub is for one request (spec "Token Validation", "Protected Resource Metadata"). */
export interface HubIdentity {
  /** The resource identifier: the `aud` tokens must carry. */
  readonly resource: string;
  /** The URL of the RFC 9728 metadata (the `resource_metadata` of challenges). */
  readonly metadataUrl: string;
  /** The hub's URL, base of relative URL patterns and topics. */
  readonly base: string;
}

/**
 * The hub's identity. With MERCURE_RESOURCE_IDENTIFIER (`pinned`) it is that value (and, when it
 * ends with /.well-known/mercure, the base of URL patterns too); otherwise it is derived from the
 * request: `<scheme>://<Host>/.well-known/mercure`, the scheme being https over TLS or, with
 * HERALD_TRUST_PROXY, when X-Forwarded-Proto says so. A derived identity trusts the Host header:
 * a hub that shares its keys with other hubs should pin it (docs/mercure.md).
 */
export function hubIdentity(req: IncomingMessage, pinned: string, trustProxy: boolean): HubIdentity {
  const origin = requestOrigin(req, trustProxy);
  if (pinned !== "") {
    let metadataUrl = `${origin}${METADATA_PATH}`;
    try {
      const url = new URL(pinned);
      const path = url.pathname === "/" ? "" : url.pathname;
      metadataUrl = `${url.origin}/.well-known/oauth-protected-resource${path}`;
    } catch {
      // not a URL: the metadata is still served here
    }
    return {
      resource: pinned,
      metadataUrl,
      base: pinned.endsWith(HUB_PATH) ? pinned : `${origin}${HUB_PATH}`,
    };
  }
  const hub = `${origin}${HUB_PATH}`;
  return { resource: hub, metadataUrl: `${origin}${METADATA_PATH}`, base: hub };
}

/**
 * `<scheme>://<host>` of a request (see `hubIdentity`). A missing Host, or one that is not a
 * host[:port] (it would make a URL of anything), gives `localhost`, or undefined when `fallback`
 * is false (public-urls.ts refuses it).
 */
export function requestOrigin(req: IncomingMessage, trustProxy: boolean): string;
export function requestOrigin(req: IncomingMessage, trustProxy: boolean, fallback: false): string | undefined;
export function requestOrigin(
  req: IncomingMessage,
  trustProxy: boolean,
  fallback = true,
): string | undefined {
  const scheme = trustProxy ? (isSecure(req) ? "https" : "http") : secureSocket(req) ? "https" : "http";
  const forwarded = trustProxy ? first(req.headers["x-forwarded-host"]) : undefined;
  const host = forwarded ?? req.headers.host;
  if (host !== undefined && /^[A-Za-z0-9.\-[\]:]+$/.test(host)) return `${scheme}://${host.toLowerCase()}`;
  return fallback ? `${scheme}://localhost` : undefined;
}

function secureSocket(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

function first(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const part = value?.split(",")[0]?.trim();
  return part === "" ? undefined : part;
}
