import { faultSuite } from "./suite.ts";

// The fixed-seed short run of npm test: burst, stop-node, slow-reader, kill-node, kill-broker, each
// with a burst. Append a failing seed of `npm run chaos` here to keep it as a regression test
// (test/fault/README.md).
faultSuite("redis", [{ seed: 10, steps: 5 }]);
