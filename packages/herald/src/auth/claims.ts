import type { JWTPayload } from "jose";
import { invalidToken } from "../core/auth.ts";

/** The topic rights a token's claims grant, as selector texts (topic.ts syntax). */
export interface TopicRights {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/**
 * Reads topic rights from a verified payload. One reader per claim format: `heraldClaims` here;
 * a Mercure reader (`mercure.publish` / `mercure.subscribe`) plugs in the same way.
 * Throws an `AuthError` (401 `invalid_token`) when the claim is present but malformed; a token
 * without the claim has no rights (it may still subscribe to public events).
 */
export type ClaimsReader = (payload: JWTPayload) => TopicRights;

const NO_RIGHTS: TopicRights = { publish: [], subscribe: [] };

/** Most selectors one claim list may hold; a larger token is refused rather than matched slowly. */
export const MAX_SELECTORS_PER_CLAIM = 256;
/** Longest selector accepted in a claim, in characters. */
export const MAX_SELECTOR_LENGTH = 1024;

/**
 * Herald's claim: `{"herald": {"publish": ["news", "orders/*", "*"], "subscribe": ["orders/42"]}}`.
 * `publish` lists the topics the holder may publish to; `subscribe` the topics on which it may
 * receive private events. Both optional (absent = none). Documented in docs/auth.md.
 */
export const heraldClaims: ClaimsReader = (payload) => readRights(payload.herald, "herald");

/** Reads `{publish?: string[], subscribe?: string[]}` under claim `name`; reused by other formats. */
export function readRights(claim: unknown, name: string): TopicRights {
  if (claim === undefined) return NO_RIGHTS;
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) {
    throw invalidToken(`the "${name}" claim must be an object like {"publish": [...], "subscribe": [...]}`);
  }
  const record = claim as Record<string, unknown>;
  return {
    publish: selectorList(record.publish, `${name}.publish`),
    subscribe: selectorList(record.subscribe, `${name}.subscribe`),
  };
}

function selectorList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== "string" || s.length === 0)) {
    throw invalidToken(`the "${where}" claim must be an array of topic selectors (non-empty strings)`);
  }
  if (value.length > MAX_SELECTORS_PER_CLAIM) {
    throw invalidToken(`the "${where}" claim lists more than ${MAX_SELECTORS_PER_CLAIM} selectors`);
  }
  if ((value as string[]).some((s) => s.length > MAX_SELECTOR_LENGTH)) {
    throw invalidToken(`a selector of the "${where}" claim is longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  return value as string[];
}
