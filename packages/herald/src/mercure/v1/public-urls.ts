import type { IncomingMessage } from "node:http";
import { HeraldError } from "../../core/errors.ts";
import { requestOrigin } from "./identity.ts";

/**
 * The hub's public URLs (MERCURE_PUBLIC_URLS, the Mercure hub's `public_urls`): when set, a Mercure
 * request whose origin (scheme and host, with its port unless the scheme's default) is not one of
 * theirs is answered 421 Misdirected Request, and no identity (resource identifier, `aud`) is
 * derived from it. The origin is the request's own (https over TLS, its `Host`), or with
 * HERALD_TRUST_PROXY the one X-Forwarded-Proto and X-Forwarded-Host name, as for the identity
 * (identity.ts). Hosts compare as URLs do (any case; `:443` for https is the same origin).
 */
export class PublicUrls {
  private readonly origins: ReadonlySet<string>;

  /** Throws an Error naming the setting for a value that is not an absolute http(s) URL. */
  constructor(urls: readonly string[]) {
    this.origins = new Set(urls.map(originOf));
  }

  /** Throws `misdirected` (421) when `req` came to an origin that is not listed; nothing when none is. */
  check(req: IncomingMessage, trustProxy: boolean): void {
    if (this.origins.size === 0) return;
    const origin = requestOrigin(req, trustProxy, false);
    let canonical: string | undefined;
    try {
      canonical = origin === undefined ? undefined : new URL(origin).origin;
    } catch {
      canonical = undefined;
    }
    if (canonical !== undefined && this.origins.has(canonical)) return;
    throw new HeraldError(
      "misdirected",
      `Misdirected Request: this hub does not answer at ${origin ?? "a request without a valid Host"}; its public URLs (MERCURE_PUBLIC_URLS) are ${[...this.origins].join(", ")}. Reach it at one of them, or add this one to MERCURE_PUBLIC_URLS`,
    );
  }
}

function originOf(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:") || url.host === "") {
    throw new Error(
      `MERCURE_PUBLIC_URLS / --mercure-public-urls: ${JSON.stringify(raw)} is not an absolute http(s) URL with a host; list the URLs the hub is reached at, e.g. https://example.com (only the scheme and host count)`,
    );
  }
  return url.origin;
}
