import { faultSuite } from "./suite.ts";

// A primary with 2 replicas and 3 Sentinels under two Herald nodes (redis+sentinel://, wait=auto,
// so every publish waits for a replica): the primary SIGKILLed during a burst, a burst after the
// failover. Nothing acknowledged may be missing, and no stream may be told of a gap. Longer
// schedules: npm run chaos -- --bus redis-sentinel (test/fault/README.md).
faultSuite("redis-sentinel", [{ seed: 10, steps: 2 }]);
