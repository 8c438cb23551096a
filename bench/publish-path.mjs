// The JavaScript cost of one publish, without sockets: Herald's compiled build in this process,
// `POST /publish` requests handed to its request listener as the lean path does (LeanRequest and
// LeanResponse over a socket stand-in that drops bytes), 32 in flight, one subscriber whose sink
// drops bytes. CPU time of this process per publish (min and median of the rounds): what a publish
// costs in Herald's code, node's promise machinery and the garbage collector, with no system call.
//   npm run build && node bench/publish-path.mjs [rounds=7] [publishes per round=50000]
import { loadavg } from "node:os";
import { defaultsWith } from "../packages/herald/dist/config/settings.js";
import { parseSelector } from "../packages/herald/dist/core/topic.js";
import { startHerald } from "../packages/herald/dist/herald.js";
import { LeanRequest, LeanResponse } from "../packages/herald/dist/http/lean-exchange.js";
import { createLogger } from "../packages/herald/dist/ops/logger.js";

const rounds = Number(process.argv[2] ?? 7);
const perRound = Number(process.argv[3] ?? 50_000);
const herald = await startHerald(
  defaultsWith({
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    workers: 1,
    allowAnonymousPublish: true,
    jwtSecret: "herald-bench-secret-not-for-production",
    publishRate: 1_000_000_000,
    publishBurst: 1_000_000_000,
  }),
  { log: createLogger("silent") },
);
let writes = 0;
await herald.hub.subscribe({
  selectors: [parseSelector("bench")],
  sink: {
    write: (bytes) => {
      if (bytes.length > 0) writes++;
      return true;
    },
    drained: async () => {},
    end: () => {},
  },
});
const socket = { destroyed: false, remoteAddress: "127.0.0.1", write: () => true };
const pad = "x".repeat(150);
const headers = { host: "127.0.0.1", "content-type": "application/json", "content-length": "0" };
let seq = 0;
let failed = 0;
function one() {
  return new Promise((resolve) => {
    const body = Buffer.from(
      JSON.stringify({ topic: "bench", data: `{"s":${++seq},"t":${Date.now()},"p":"${pad}"}` }),
    );
    const req = new LeanRequest(
      "POST",
      "/publish",
      { ...headers, "content-length": String(body.length) },
      socket,
      body,
    );
    const res = new LeanResponse(socket, {
      closes: () => false,
      keepAliveSeconds: 5,
      answered: () => {
        if (res.statusCode !== 200) failed++;
        resolve();
      },
    });
    herald.server.emit("request", req, res);
  });
}
async function round(n) {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: 32 }, one));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}
await round(20_000); // warm-up: compiled and optimized
const results = [];
for (let r = 0; r < rounds; r++) results.push(await round(perRound));
results.sort((a, b) => a - b);
console.log(
  `JavaScript per publish (no sockets): min ${results[0].toFixed(2)} µs, median ${results[results.length >> 1].toFixed(2)} µs over ${rounds} rounds of ${perRound}; ${failed} failed; ${((rounds * perRound + 20_000) / writes).toFixed(1)} events per subscriber write; load average ${loadavg()[0].toFixed(1)}`,
);
await herald.close();
process.exit(0);
