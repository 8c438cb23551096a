import { invalidToken } from "../../core/auth.ts";
import type { HeraldError } from "../../core/errors.ts";
import { selectorMatches, type TopicSelector } from "../../core/topic.ts";
import type { MercureSelectors } from "../selectors.ts";
import { UrlPatternError } from "./urlpattern.ts";

/** The type of Mercure authorization details (spec "Authorization Details"). */
export const MERCURE_DETAIL_TYPE = "https://mercure.rocks/authorization-detail";

/** The matcher types of Mercure 1.0 (spec "Matcher Types"). */
export const MATCHER_TYPES = ["exact", "urlpattern"] as const;
export type MatcherType = (typeof MATCHER_TYPES)[number];

/** A topic matcher: `*` matches every topic whatever its type. */
export interface TopicMatcher {
  readonly type: MatcherType;
  readonly match: string;
}

/** Most Mercure details one token may carry, and most topic matchers in one detail. */
export const MAX_DETAILS = 100;
export const MAX_DETAIL_TOPICS = 100;

/** What a 1.0 token's `authorization_details` grant. */
export interface MercureGrants {
  /** Topics it may publish to (`publish` action). */
  readonly publish: readonly TopicSelector[];
  /** Topics on which it may receive private updates (`subscribe` action). */
  readonly subscribe: readonly TopicSelector[];
  /** The `subscribe` details, in order, with their payloads (spec "Payloads"). */
  readonly subscribeDetails: readonly {
    readonly selectors: readonly TopicSelector[];
    readonly payload: unknown;
  }[];
}

/** Control characters (C0, DEL, C1) and Unicode format characters (Cf): refused in topics and matchers. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
export const FORBIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\p{Cf}]/u;

/**
 * Reads `authorization_details` (RFC 9396) of a verified 1.0 access token. Details of other
 * types are ignored; a Mercure detail must have a non-empty `actions` array of strings (unknown
 * actions grant nothing) and a non-empty `topics` array of `{match, match_type?}` objects (`match`
 * a string, empty included, checked as a subscribe matcher is)
 * (`match_type` `exact`, the default, or `urlpattern`, case-sensitive), and may have a `payload`
 * object. One invalid Mercure detail rejects the whole token (401 `invalid_token`), as do more
 * than `MAX_DETAILS` details or `MAX_DETAIL_TOPICS` matchers in one. URL patterns are resolved
 * against `base` (the hub's URL) and compiled through `selectors` (bounded, shared).
 */
export function readGrants(claim: unknown, selectors: MercureSelectors, base: string): MercureGrants {
  const publish: TopicSelector[] = [];
  const subscribe: TopicSelector[] = [];
  const subscribeDetails: { selectors: TopicSelector[]; payload: unknown }[] = [];
  if (claim === undefined) return { publish, subscribe, subscribeDetails };
  if (!Array.isArray(claim)) throw invalidDetail("authorization_details must be an array");
  let mercure = 0;
  for (const [index, detail] of claim.entries()) {
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) {
      throw invalidDetail(`authorization_details[${index}] must be an object`);
    }
    const record = detail as Record<string, unknown>;
    if (record.type !== MERCURE_DETAIL_TYPE) continue;
    if (++mercure > MAX_DETAILS)
      throw invalidDetail(`more than ${MAX_DETAILS} Mercure authorization details`);
    const where = `authorization_details[${index}]`;
    const { actions, topics, payload } = record;
    if (!Array.isArray(actions) || actions.length === 0 || actions.some((a) => typeof a !== "string")) {
      throw invalidDetail(`${where}.actions must be a non-empty array of strings ("publish", "subscribe")`);
    }
    if (!Array.isArray(topics) || topics.length === 0) {
      throw invalidDetail(`${where}.topics must be a non-empty array of {"match": ..., "match_type": ...}`);
    }
    if (topics.length > MAX_DETAIL_TOPICS) {
      throw invalidDetail(`${where}.topics has more than ${MAX_DETAIL_TOPICS} matchers`);
    }
    if (
      payload !== undefined &&
      (typeof payload !== "object" || payload === null || Array.isArray(payload))
    ) {
      throw invalidDetail(`${where}.payload must be a JSON object`);
    }
    const parsed = topics.map((topic, i) => matcherSelector(topic, `${where}.topics[${i}]`, selectors, base));
    if (actions.includes("publish")) publish.push(...parsed);
    if (actions.includes("subscribe")) {
      subscribe.push(...parsed);
      subscribeDetails.push({ selectors: parsed, payload });
    }
  }
  return { publish, subscribe, subscribeDetails };
}

/**
 * The payload of a subscription (spec "Payloads"): that of the first `subscribe` detail one of
 * whose matchers matches the subscription's own matcher string taken as a topic.
 */
export function payloadFor(grants: MercureGrants | undefined, match: string): unknown {
  for (const detail of grants?.subscribeDetails ?? []) {
    if (detail.selectors.some((s) => selectorMatches(s, match))) return detail.payload;
  }
  return undefined;
}

function matcherSelector(
  topic: unknown,
  where: string,
  selectors: MercureSelectors,
  base: string,
): TopicSelector {
  if (typeof topic !== "object" || topic === null || Array.isArray(topic)) {
    throw invalidDetail(`${where} must be an object {"match": ..., "match_type": ...}`);
  }
  const { match, match_type: type = "exact" } = topic as Record<string, unknown>;
  // An empty string is a matcher (spec "Topic Matcher List": the object has a `match` property; the
  // Mercure hub tells it from an absent one and accepts it): exact, it matches no publishable topic.
  if (typeof match !== "string") throw invalidDetail(`${where}.match must be a string`);
  if (FORBIDDEN_CHARACTERS.test(match)) {
    throw invalidDetail(`${where}.match contains a control or format character`);
  }
  if (typeof type !== "string" || !(MATCHER_TYPES as readonly string[]).includes(type)) {
    throw invalidDetail(`${where}.match_type must be "exact" or "urlpattern" (case-sensitive)`);
  }
  if (match === "*") return { kind: "all" };
  if (type === "exact") return { kind: "exact", topic: match };
  try {
    return selectors.parseUrlPattern({ type: "urlpattern", pattern: match, base });
  } catch (error) {
    if (error instanceof UrlPatternError) throw invalidDetail(`${where}.match: ${error.message}`);
    throw error;
  }
}

function invalidDetail(why: string): HeraldError {
  return invalidToken(`invalid Mercure authorization details: ${why}`);
}
