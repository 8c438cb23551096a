import { startNode } from "../helpers/cluster.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { runIdScopeSuite } from "../helpers/id-scope-suite.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

runIdScopeSuite("memory bus, one process", async () => {
  const herald = await startTestHerald({ jwtSecret: TEST_SECRET, allowAnonymousPublish: false });
  return { url: herald.url, stop: () => herald.close() };
});

runIdScopeSuite("memory bus, --workers 2 (the primary holds the log)", async () => {
  const node = await startNode("memory", ["--workers", "2", "--jwt-secret", TEST_SECRET]);
  return { url: node.url, stop: () => node.kill("SIGTERM"), queuedPerWorker: true };
});
