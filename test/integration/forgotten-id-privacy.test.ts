import { startNode } from "../helpers/cluster.ts";
import { FORGOTTEN_SUITE_HISTORY, runForgottenIdSuite } from "../helpers/forgotten-id-suite.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

runForgottenIdSuite("memory bus, one process", async () => {
  const herald = await startTestHerald({
    jwtSecret: TEST_SECRET,
    allowAnonymousPublish: false,
    historySize: FORGOTTEN_SUITE_HISTORY,
  });
  return { url: herald.url, stop: () => herald.close() };
});

runForgottenIdSuite("memory bus, --workers 2 (the primary holds the log)", async () => {
  const node = await startNode("memory", [
    ...["--workers", "2", "--jwt-secret", TEST_SECRET],
    ...["--history-size", String(FORGOTTEN_SUITE_HISTORY)],
  ]);
  return { url: node.url, stop: () => node.kill("SIGTERM"), queuedPerWorker: true };
});
