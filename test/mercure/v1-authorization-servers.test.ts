import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { ISSUER, startModernHerald } from "./v1-helpers.ts";

const METADATA = "/.well-known/oauth-protected-resource/.well-known/mercure";

/**
 * Spec "Protected Resource Metadata": `authorization_servers`, the issuer identifiers of the
 * authorization servers that can issue tokens for the hub; omitted when tokens are self-issued.
 * Herald advertises the trusted issuers listed in MERCURE_AUTHORIZATION_SERVERS.
 */
describe("Mercure: authorization_servers in the protected-resource metadata", () => {
  let advertised: Herald;
  let selfIssued: Herald;
  before(async () => {
    advertised = await startModernHerald({ mercureAuthorizationServers: [ISSUER] });
    selfIssued = await startModernHerald();
  });
  after(async () => {
    await Promise.all([advertised.close(), selfIssued.close()]);
  });

  it("lists the configured authorization servers, and omits the member when there is none", async () => {
    const listed = await httpRequest(`${advertised.url}${METADATA}`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.body as Record<string, unknown>).authorization_servers, [ISSUER]);
    const none = await httpRequest(`${selfIssued.url}${METADATA}`);
    assert.equal(none.status, 200, none.text);
    assert.equal("authorization_servers" in (none.body as Record<string, unknown>), false);
  });

  it("refuses to start when an advertised server is not a trusted issuer (its tokens would be refused)", async () => {
    await assert.rejects(
      startModernHerald({ mercureAuthorizationServers: ["https://auth.elsewhere.example"] }),
      /MERCURE_AUTHORIZATION_SERVERS.*"https:\/\/auth\.elsewhere\.example".*MERCURE_ISSUER/,
    );
  });
});
