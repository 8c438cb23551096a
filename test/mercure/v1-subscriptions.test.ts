import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

const API = "/.well-known/mercure/subscriptions";

describe("Mercure 1.0: the subscriptions API", () => {
  let herald: Herald;
  let reader: string;
  before(async () => {
    herald = await startModernHerald({ mercureSubscriptions: true });
    reader = await accessToken(resourceOf(herald.url), [
      detail(["subscribe"], [API, { match: `${API}/*`, match_type: "urlpattern" }]),
    ]);
  });
  after(() => herald.close());

  const get = (path: string, token?: string) =>
    httpRequest(
      `${herald.url}${path}`,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  it("answers plain JSON with lowercase types and the cursor in the Link header", async () => {
    const answer = await get(API, reader);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.headers["content-type"], "application/json");
    assert.deepEqual(answer.body, { id: API, type: "subscriptions", subscriptions: [] });
    assert.match(
      answer.headers.link as string,
      /^<http:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure>; rel="mercure"; last-event-id="[^"]+"; type="mercure"; content-type="application\/json"$/,
    );
    assert.match(answer.headers["access-control-expose-headers"] as string, /Link/);
    const one = await get(`${API}/exact/${encodeURIComponent("https://example.com/a")}`, reader);
    assert.deepEqual(one.body, {
      id: `${API}/exact/${encodeURIComponent("https://example.com/a")}`,
      type: "subscriptions",
      subscriptions: [],
    });
    assert.equal((await get(`${API}/exact/a/urn%3Auuid%3Ax`, reader)).status, 404);
  });

  it("refuses an unknown matcher type (case-sensitive) with 400, and 0.x paths outside compatibility mode", async () => {
    assert.equal((await get(`${API}/URLPattern/x`, reader)).status, 400);
    assert.equal((await get(`${API}/uritemplate/x/y`, reader)).status, 400);
    assert.equal((await get(`${API}/some-topic`, reader)).status, 404);
  });

  it("answers 401 with a bare challenge without a token, 403 insufficient_scope without the grant", async () => {
    const none = await get(API);
    assert.equal(none.status, 401);
    assert.match(none.headers["www-authenticate"] as string, /^Bearer resource_metadata="/);
    const narrow = await accessToken(resourceOf(herald.url), [
      detail(["subscribe"], ["https://example.com/a"]),
    ]);
    const refused = await get(API, narrow);
    assert.equal(refused.status, 403);
    assert.match(refused.headers["www-authenticate"] as string, /^Bearer error="insufficient_scope"/);
  });

  it("advertises the subscriptions API in the resource metadata", async () => {
    const metadata = await get("/.well-known/oauth-protected-resource/.well-known/mercure");
    assert.equal((metadata.body as { mercure_subscriptions?: boolean }).mercure_subscriptions, true);
  });
});
