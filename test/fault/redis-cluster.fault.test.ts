import { faultSuite } from "./suite.ts";

// A Redis Cluster of 3 primaries with a replica each under two Herald nodes (redis+cluster://,
// wait=auto): the primary of the log's slot SIGKILLed during a burst, a burst after the failover.
// Nothing acknowledged may be missing, and no stream may be told of a gap. Longer schedules:
// npm run chaos -- --bus redis-cluster (test/fault/README.md).
faultSuite("redis-cluster", [{ seed: 10, steps: 2 }]);
