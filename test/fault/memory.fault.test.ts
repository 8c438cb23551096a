import { faultSuite } from "./suite.ts";

// The fixed-seed short run of npm test: kill-node, stop-node, slow-reader, each with a burst.
// Append a failing seed of `npm run chaos` here to keep it as a regression test (test/fault/README.md).
faultSuite("memory", [{ seed: 7, steps: 3 }]);
