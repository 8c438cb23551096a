import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { runBusContract } from "../bus-contract.ts";

runBusContract("memory", async () => ({
  shared: false,
  open: (_log, options) =>
    new MemoryBus({
      history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
    }),
  close: async () => {},
}));
