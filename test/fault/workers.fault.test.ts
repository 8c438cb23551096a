import { faultSuite } from "./suite.ts";

// The fixed-seed short run of npm test; append a failing seed of `npm run chaos` here to keep it
// as a regression test (test/fault/README.md).
faultSuite("workers", [{ seed: 1, steps: 4 }]);
