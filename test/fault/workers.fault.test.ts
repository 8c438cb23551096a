import { faultSuite } from "./suite.ts";

// The fixed-seed short run of npm test: kill-worker, stop-worker, slow-reader, each with a burst.
// Append a failing seed of `npm run chaos` here to keep it as a regression test (test/fault/README.md).
faultSuite("workers", [{ seed: 7, steps: 3 }]);
