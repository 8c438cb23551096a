import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { startModernHerald } from "./v1-helpers.ts";

/**
 * Promise (docs/mercure.md, Resuming (1.0)): a resume answers `Mercure-Last-Event-ID`, the value a
 * subscriber compares with the id it asked for to detect loss (spec/mercure.md: "subscribers that
 * only need to detect data loss can compare it against the requested value"; "polyfills and
 * Server-Sent Events clients in most programming languages" read it). `MERCURE_CORS_ORIGINS`
 * serves browser subscribers on other origins (`withCredentials`).
 *
 * Was (attack round, 2026-12-02): the Mercure stream's CORS answer exposes
 * `Retry-After, WWW-Authenticate, Last-Event-ID`: the 0.x resume header is exposed but the 1.0
 * one, `Mercure-Last-Event-ID`, is not, so a cross-origin fetch-based client (the allowed origin
 * itself) cannot read the resume point it was sent.
 */
describe("Mercure 1.0 over CORS: the resume header", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald({ mercureCorsOrigins: ["https://app.example"] });
  });
  after(async () => {
    await herald.close();
  });

  it("exposes Mercure-Last-Event-ID to the allowed origin", async () => {
    const stream = new RawStream(
      `${herald.url}/.well-known/mercure?match=https://example.com/a&last_event_id=earliest`,
      {
        origin: "https://app.example",
      },
    );
    try {
      await stream.opened();
      assert.equal(stream.headers["access-control-allow-origin"], "https://app.example");
      assert.equal(stream.headers["mercure-last-event-id"], "earliest");
      const exposed = String(stream.headers["access-control-expose-headers"] ?? "")
        .split(",")
        .map((name) => name.trim().toLowerCase());
      assert.ok(
        exposed.includes("mercure-last-event-id"),
        `Access-Control-Expose-Headers: ${stream.headers["access-control-expose-headers"]}`,
      );
    } finally {
      stream.close();
    }
  });
});
