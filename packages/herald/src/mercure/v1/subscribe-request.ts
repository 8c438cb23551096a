import type { IncomingMessage } from "node:http";
import { charactersOver } from "../../core/characters.ts";
import { badRequest } from "../../core/errors.ts";
import { headerText } from "../../http/header-text.ts";
import { strictQuery } from "../../http/strict-query.ts";
import { FORBIDDEN_CHARACTERS, type MatcherType, type TopicMatcher } from "./details.ts";

/** What a Mercure subscribe request asks for, in either protocol generation. */
export interface SubscribeRequest {
  /**
   * 1: a Mercure 1.0 request (a `match*` parameter, or any request when compatibility mode is
   * off); 0: a 0.x request (`topic=` only, compatibility mode).
   */
  readonly generation: 0 | 1;
  /** 0.x selectors (`topic=`: exact, `*`, URI templates), deduplicated. */
  readonly topics: readonly string[];
  /** 1.0 matchers (`match=`, `match_exact=`, `match_urlpattern=`), deduplicated. */
  readonly matchers: readonly TopicMatcher[];
  /**
   * Where to resume: the `Last-Event-ID` header, else `last_event_id` (or 0.x's `lastEventID`),
   * the first of them with a value. `""` when one is present but every one present is empty (spec
   * "Reconciliation": "When the request contains a `Last-Event-ID` HTTP header or a
   * `last_event_id` query parameter, the hub MUST set a `Mercure-Last-Event-ID` field"; "A
   * parameter name given without a value is equivalent to that name with an empty value"): no
   * update bears that id, so it resumes as an unknown id does (`earliest`, nothing replayed).
   * Undefined: none is present, the stream is live only.
   */
  readonly lastEventId: string | undefined;
}

export interface SubscribeLimits {
  /** Compatibility mode (MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8): `topic=` and `lastEventID` too. */
  readonly compat: boolean;
  /** Most matchers in one request (HERALD_MAX_TOPICS). */
  readonly maxMatchers: number;
  /** Longest matcher (HERALD_MAX_TOPIC_LENGTH). */
  readonly maxLength: number;
}

const MATCHER_PARAMS: Record<string, MatcherType> = {
  match: "exact",
  match_exact: "exact",
  match_urlpattern: "urlpattern",
};

/**
 * Reads the query of a subscribe request (spec "Subscription"), and the form body of a `QUERY`
 * (`body`, already read and checked as UTF-8 form text): the union of both, the query component's
 * pairs first (so its `last_event_id` wins over the body's). Parsed as
 * application/x-www-form-urlencoded, but strictly: a value that is not valid UTF-8 once
 * percent-decoded is a 400 (URLSearchParams would silently replace it). Names are case-sensitive:
 * `match` and `match_exact` (exact), `match_urlpattern` (URL Pattern); any other name in the
 * reserved `match` namespace (starting with `match`, in any case) is a 400, so are a value with a
 * control or format character, more than `maxMatchers` matchers or one longer than `maxLength`,
 * and a request with no matcher. `topic` is a 0.x selector in compatibility mode, a 400 otherwise.
 * The `Last-Event-ID` header wins over `last_event_id` (and 0.x's `lastEventID`, compatibility
 * mode only); an empty one counts as present but yields to one with a value (as the Mercure hub
 * reads them: subscribe.go `retrieveLastEventID`). Validity of URL patterns is checked when they are compiled (selectors.ts).
 */
export function parseSubscribeRequest(
  req: IncomingMessage,
  url: URL,
  limits: SubscribeLimits,
  body = "",
): SubscribeRequest {
  const topics = new Set<string>();
  const matchers = new Map<string, TopicMatcher>();
  let queryLastEventId: string | undefined;
  let legacyLastEventId: string | undefined;
  let count = 0;
  for (const [name, value] of [...strictQuery(url.search), ...strictQuery(body)]) {
    const type = MATCHER_PARAMS[name];
    if (type === undefined && name.slice(0, 5).toLowerCase() === "match") {
      throw badRequest(
        `unknown subscribe parameter ${JSON.stringify(name)}: the matcher parameters are "match" (or "match_exact") and "match_urlpattern", case-sensitive`,
      );
    }
    if (name === "last_event_id") {
      queryLastEventId ??= value;
      continue;
    }
    if (name === "lastEventID" && limits.compat) {
      legacyLastEventId ??= value;
      continue;
    }
    if (name === "topic" && !limits.compat) {
      throw badRequest(
        'the "topic" parameter is Mercure 0.x: subscribe with "match" (exact) or "match_urlpattern" (a URL pattern such as https://example.com/books/:id); or start the hub with MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8',
      );
    }
    if (type === undefined && name !== "topic") continue;
    if (++count > limits.maxMatchers) {
      throw badRequest(`a subscription may have at most ${limits.maxMatchers} matchers (HERALD_MAX_TOPICS)`);
    }
    const long = charactersOver(value, limits.maxLength);
    if (long !== undefined) {
      throw badRequest(
        `${name} is ${long} characters long; the limit is ${limits.maxLength} (HERALD_MAX_TOPIC_LENGTH)`,
      );
    }
    if (FORBIDDEN_CHARACTERS.test(value)) {
      throw badRequest(`${name} ${JSON.stringify(value)} contains a control or format character`);
    }
    if (type === undefined) {
      if (value === "") throw badRequest('"topic" must not be empty');
      topics.add(value);
    } else {
      matchers.set(`${type}\n${value}`, { type, match: value });
    }
  }
  if (topics.size === 0 && matchers.size === 0) {
    throw badRequest(
      limits.compat
        ? 'missing "match": subscribe with ?match=<topic> or ?match_urlpattern=<URL pattern> (Mercure 1.0), or ?topic=<selector> (0.x)'
        : 'missing "match": subscribe with ?match=<topic> or ?match_urlpattern=<URL pattern> (e.g. https://example.com/books/:id)',
    );
  }
  const header = req.headers["last-event-id"];
  const fromHeader = typeof header === "string" ? headerText(header) : undefined;
  const present = [fromHeader, queryLastEventId, legacyLastEventId].filter((id) => id !== undefined);
  return {
    generation: matchers.size > 0 || !limits.compat ? 1 : 0,
    topics: [...topics],
    matchers: [...matchers.values()],
    lastEventId: present.length === 0 ? undefined : (present.find((id) => id !== "") ?? ""),
  };
}
