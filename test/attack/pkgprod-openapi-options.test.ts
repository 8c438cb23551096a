// Attack (issue 13, "An OpenAPI 3.1 description": "tests validate real answers against it ...
// success and error answers alike, so it cannot drift"): Herald answers OPTIONS on every route
// (204 with Allow, and the CORS preflight with the Access-Control-* headers a browser needs before
// any cross-origin publish), and its 405 answers list OPTIONS in Allow; yet docs/openapi.json
// describes no `options` operation at all. A client generated from it, or a gateway that routes by
// it, does not know the preflight exists; a checker of real answers finds no operation for them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { ApiDescription } from "../openapi/validator.ts";

const ORIGIN = "http://app.example";

describe("attack: the OPTIONS answers (CORS preflight) are in the OpenAPI description", () => {
  const api = new ApiDescription();
  let herald: HeraldProcess;
  before(async () => {
    herald = await spawnHerald(["--cors-origins", ORIGIN]);
  });
  after(() => stopHerald(herald));

  for (const path of ["/publish", "/events", "/broadcast", "/.well-known/mercure"]) {
    it(`OPTIONS ${path} (a browser's preflight): its 204 answer matches a described operation`, async () => {
      const response = await fetch(`${herald.url}${path}`, {
        method: "OPTIONS",
        headers: {
          Origin: ORIGIN,
          "Access-Control-Request-Method": path === "/events" ? "GET" : "POST",
          "Access-Control-Request-Headers": "authorization,content-type",
        },
      });
      const answer = { status: response.status, headers: response.headers, body: await response.text() };
      assert.equal(answer.status, 204, "Herald answers the preflight");
      assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
      api.check("OPTIONS", path, answer);
    });
  }
});
