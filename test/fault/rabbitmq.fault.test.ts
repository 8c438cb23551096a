import { faultSuite } from "./suite.ts";

// The fixed-seed short run of npm test: kill-node, stop-node, kill-broker (the slow reader runs on the other buses), each with a burst.
// Append a failing seed of `npm run chaos` here to keep it as a regression test (test/fault/README.md).
faultSuite("rabbitmq", [{ seed: 7, steps: 3 }]);
