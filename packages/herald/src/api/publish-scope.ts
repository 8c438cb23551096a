import { createHash } from "node:crypto";
import type { TopicSelector } from "../core/topic.ts";

/** The scope every anonymous publisher shares (HERALD_ALLOW_ANONYMOUS_PUBLISH). */
const ANONYMOUS_SCOPE = "anonymous";

/**
 * A publisher's deduplication scope (`PublishInput.scope`): ids are deduplicated per scope, so a
 * publisher's id never hides, or answers for, another publisher's event.
 * Two credentials share a scope when they name the same principal (`sub:<sub>`, or the same
 * token when it has no subject) and grant the same publish selectors, in any order: a retry is
 * still recognised after a token is renewed with the same rights, and a token of the same subject
 * with other rights is another publisher. Anonymous publishers share one scope.
 * The scope is a hash (it names nobody in the broker) and never reaches subscribers.
 */
export function publishScope(principal: ScopedPrincipal): string {
  if (principal.anonymous === true) return ANONYMOUS_SCOPE;
  // a token's principal is cached by the authorizer (auth/authorizer.ts): its scope is hashed once
  let scope = scopes.get(principal);
  if (scope === undefined) {
    const rights = principal.publish.map(describe).sort();
    const digest = createHash("sha256")
      .update(JSON.stringify([principal.id, rights]))
      .digest("base64url");
    scope = `p:${digest.slice(0, 22)}`;
    scopes.set(principal, scope);
  }
  return scope;
}

interface ScopedPrincipal {
  readonly id: string;
  readonly anonymous?: boolean;
  readonly publish: readonly TopicSelector[];
}

/** Scopes already computed, by principal (immutable: a principal's id and rights never change). */
const scopes = new WeakMap<ScopedPrincipal, string>();

function describe(selector: TopicSelector): string {
  switch (selector.kind) {
    case "all":
      return "*";
    case "exact":
      return `=${selector.topic}`;
    case "prefix":
      return `^${selector.prefix}`;
    case "match":
      return `~${selector.source}`;
  }
}
