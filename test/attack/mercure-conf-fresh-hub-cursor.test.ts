import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

const API = "/.well-known/mercure/subscriptions";

/**
 * Promise (spec/mercure.md, "Subscription API", 1.0.0-alpha.3): "every endpoint MUST carry the
 * reconciliation cursor as a `last-event-id` target attribute on the `rel="mercure"` Link header
 * ... The value is the identifier of the last event dispatched by the hub at the time of this
 * request, or `earliest` if no events have been dispatched yet." docs/mercure.md (Subscriptions
 * API): "the hub's current position, `<epoch>-<n>` (`earliest` when nothing was published)".
 *
 * Found checking Herald against the Mercure conformance material (2026-12-03), low severity: on a
 * hub where nothing was ever published or dispatched, the cursor is `<epoch>-0` (e.g.
 * `c3796448da-0`), not `earliest`. It resumes correctly when passed back, but a client testing
 * for `earliest` (the spec's "no events yet") does not see it, and docs/mercure.md says otherwise.
 */
describe("Mercure 1.0: the subscriptions API cursor of a fresh hub", () => {
  let herald: Herald;
  let reader: string;
  before(async () => {
    herald = await startModernHerald({ mercureSubscriptions: true });
    reader = await accessToken(resourceOf(herald.url), [
      detail(["subscribe"], [API, { match: `${API}/*`, match_type: "urlpattern" }]),
    ]);
  });
  after(() => herald.close());

  it('is last-event-id="earliest" while no event was dispatched', async () => {
    const answer = await httpRequest(`${herald.url}${API}`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(answer.status, 200, answer.text);
    const cursor = /last-event-id="([^"]*)"/.exec(String(answer.headers.link))?.[1];
    assert.equal(cursor, "earliest", `Link: ${answer.headers.link}`);
  });
});
