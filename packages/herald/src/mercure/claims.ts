import type { JWTPayload } from "jose";
import { heraldClaims, principalOf, readRights } from "../auth/index.ts";
import { invalidToken } from "../core/auth.ts";
import type { TopicSelector } from "../core/topic.ts";
import type { MercureSelectors } from "./selectors.ts";
import { TemplateTooComplex } from "./uri-template.ts";
import type { MercureGrants } from "./v1/details.ts";

/** What a verified Mercure token grants. */
export interface MercureClaims {
  /** A stable key for rate limits and logs: `sub:<sub>`, else `token:<hash>` (never the token). */
  readonly id: string;
  /** `mercure.publish`, as selectors (Mercure syntax); empty when absent. */
  readonly publish: readonly TopicSelector[];
  /** `mercure.subscribe`: the topics on which private updates may be received. */
  readonly subscribe: readonly TopicSelector[];
  /** `mercure.payload`, any JSON, shown in subscription events; undefined when absent. */
  readonly payload: unknown;
  /** `exp` in ms since the Unix epoch; undefined = no expiry. */
  readonly expiresAt: number | undefined;
  /** Present for a Mercure 1.0 access token: its `authorization_details` (subscription payloads). */
  readonly grants?: MercureGrants;
}

/**
 * The claims mapper of Mercure tokens: `{"mercure": {"publish": [...], "subscribe": [...],
 * "payload": ...}}` (or the same under `https://mercure.rocks/`, which the Mercure hub also reads).
 * Selectors use Mercure's syntax (`*`, exact, URI templates: selectors.ts), not Herald's.
 * Herald's own `herald` claim, when present, adds its rights in Herald's syntax (`orders/*`), so one
 * token can serve both APIs. A malformed claim is a 401 `invalid_token` (the auth module's
 * `readRights` checks the shape). `leewayMs`: the clock skew the verifier allowed, added to `exp`.
 */
export function mercureClaims(
  payload: JWTPayload,
  token: string,
  selectors: MercureSelectors,
  leewayMs = 0,
): MercureClaims {
  const claim = payload.mercure ?? payload["https://mercure.rocks/"];
  const rights = readRights(claim, "mercure");
  const parse = (list: readonly string[], where: string) =>
    list.map((text) => {
      try {
        return selectors.parse(text);
      } catch (error) {
        if (error instanceof TemplateTooComplex) {
          throw invalidToken(
            `a selector of "mercure.${where}" is too complex a URI template: ${error.message}`,
          );
        }
        throw error;
      }
    });
  const record = typeof claim === "object" && claim !== null ? (claim as Record<string, unknown>) : {};
  const herald = principalOf(payload, heraldClaims(payload), token, leewayMs);
  return {
    id: herald.id,
    publish: [...parse(rights.publish, "publish"), ...herald.publish],
    subscribe: [...parse(rights.subscribe, "subscribe"), ...herald.subscribe],
    payload: record.payload,
    expiresAt: herald.expiresAt, // exp plus the verifier's leeway (auth/authorizer.ts principalOf)
  };
}
