import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { openApiDocument } from "../../packages/herald/src/ops/openapi/index.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { call, openStream, rawRequest } from "./client.ts";
import { ApiDescription, DOCUMENT_FILE } from "./validator.ts";

/**
 * The description and the server agree on the routes: every described path is served with
 * exactly the described methods, every route the server serves is described, and docs/openapi.json
 * is the document the source builds, the built package builds and the server serves.
 */

type Paths = Record<string, Record<string, unknown>>;
const fileDocument = () => JSON.parse(readFileSync(DOCUMENT_FILE, "utf8")) as { paths: Paths };

/** A request path for a described path: `{param}` filled in, and a query the GET needs. */
function concrete(path: string): string {
  const filled = path.replace(/\{[^}]+\}/g, (param) => param.slice(1, -1));
  return filled === "/events" || filled === "/.well-known/mercure" ? `${filled}?topic=news` : filled;
}

describe("the OpenAPI description lists exactly the routes Herald serves", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ mercureSubscriptions: true });
  });
  after(() => herald.close());

  it("docs/openapi.json is the document ops/openapi/ builds (`npm run openapi` writes it)", () => {
    assert.deepEqual(
      fileDocument(),
      openApiDocument(),
      "docs/openapi.json is out of date: run `npm run openapi`",
    );
  });

  it("the built package builds the same document (it ships in dist/, read by GET /openapi.json)", async () => {
    const built = (await import(
      new URL("../../packages/herald/dist/ops/openapi/index.js", import.meta.url).href
    )) as typeof import("../../packages/herald/src/ops/openapi/index.ts");
    assert.deepEqual(built.openApiDocument(), fileDocument(), "dist/ is out of date: run `npm run build`");
  });

  it("GET /openapi.json serves docs/openapi.json", async () => {
    const answer = await call(`${herald.url}/openapi.json`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(JSON.parse(answer.body), fileDocument());
  });

  it("every described path is served with exactly its described methods (OPTIONS answers Allow)", async () => {
    for (const [path, item] of Object.entries(fileDocument().paths)) {
      const answer = await call(`${herald.url}${concrete(path)}`, { method: "OPTIONS" });
      assert.equal(answer.status, 204, `OPTIONS ${path}: ${answer.body}`);
      const served = (answer.headers.get("allow") ?? "").split(", ").sort();
      // a method OpenAPI 3.1 cannot name is described as an extension (`x-query`: QUERY)
      const described = Object.keys(item)
        .map((m) => m.replace(/^x-/, "").toUpperCase())
        .sort();
      assert.deepEqual(served, described, `${path}: served methods vs described ones`);
    }
  });

  it("every route Herald serves is described (the 404 answer lists them)", async () => {
    const answer = await call(`${herald.url}/no-such-route`);
    new ApiDescription().checkShared("NotFound", answer);
    const listed = /Herald serves (.*)$/.exec((JSON.parse(answer.body) as { message: string }).message);
    assert.ok(listed !== null, `the 404 message lists the routes: ${answer.body}`);
    const routes = listed[1]!.split(", ");
    assert.ok(routes.includes("/publish") && routes.includes("/openapi.json"), listed[1]);
    const described = Object.keys(fileDocument().paths);
    assert.deepEqual(
      routes.filter((route) => !described.includes(route)),
      [],
      "routes Herald serves that docs/openapi.json does not describe",
    );
  });

  it("HEAD is answered as GET without a body, on every described GET", async () => {
    for (const [path, item] of Object.entries(fileDocument().paths)) {
      if (!("get" in item)) continue;
      const url = `${herald.url}${concrete(path)}`;
      const get = await openStream(url);
      get.close();
      const head = await call(url, { method: "HEAD" });
      assert.equal(head.status, get.status, `HEAD ${path}`);
      assert.equal(head.body, "", `HEAD ${path} has no body`);
    }
  });

  it("a request target that is no URL is a 400 in the described shape", async () => {
    const port = new URL(herald.url).port;
    const answer = await rawRequest(
      Number(port),
      "GET http://[nope/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(answer.status, 400);
    new ApiDescription().checkShared("BadTarget", answer);
  });
});
