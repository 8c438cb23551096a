// Hostile Mercure 1.0 URL patterns against one Herald process (issue 11, issue 15): what they cost
// the event loop (the server's longest block, nodejs_eventloop_lag_max_seconds) and publishers.
// Usage: npm run build && node --import tsx bench/urlpattern-abuse.ts [IPs, default 100]
// - live: IPs x 32 distinct anonymous patterns such as https://example.com/:x((?:a+)+b7) (one
//   stream per IP, 127.0.x.y), then 20 publishes on topics all of them must be checked against;
// - replay: after 10,000 updates, 10 streams of one IP with 32 such patterns resume from
//   `earliest` (every held update checked against every pattern), while /healthz is asked.
import { request } from "node:http";
import { SignJWT } from "jose";
import { startServer } from "./harness.ts";

const IPS = Number(process.argv[2] ?? 100);
const KEY = "!ChangeThisMercureHubJWTSecretKey!";
const ISSUER = "https://bench.example";
const hostile = (n: number) => `https://example.com/:x((?:a+)+b${n})`;

const server = await startServer([
  "--workers",
  "1",
  "--mercure-jwt-key",
  KEY,
  "--mercure-issuer",
  ISSUER,
  "--mercure-anonymous",
  "true",
]);
const hub = `${server.url}/.well-known/mercure`;
const open: { destroy(): void }[] = [];
try {
  const token = await new SignJWT({
    authorization_details: [
      { type: "https://mercure.rocks/authorization-detail", actions: ["publish"], topics: [{ match: "*" }] },
    ],
  })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(hub)
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(KEY));
  const publish = async (topic: string): Promise<number> => {
    const started = performance.now();
    const answer = await fetch(hub, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ topic, data: "x" }),
    });
    await answer.text();
    if (answer.status !== 200) throw new Error(`publish answered ${answer.status}`);
    return performance.now() - started;
  };
  const lagMs = async (): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("nodejs_eventloop_lag_max_seconds"));
    return line === undefined ? Number.NaN : Number(line.split(" ").pop()) * 1000;
  };
  const stream = (query: URLSearchParams, localAddress: string) =>
    new Promise<number>((resolve) => {
      const req = request(
        { host: "127.0.0.1", port: server.port, path: `/.well-known/mercure?${query}`, localAddress },
        (res) => {
          if (res.statusCode === 200) open.push(req);
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", () => resolve(0));
      req.end();
    });
  const publishes = async () => {
    await lagMs();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await publish(`https://example.com/${"a".repeat(40 + i)}`));
    times.sort((a, b) => a - b);
    return { p50: times[10] as number, max: times[19] as number, lag: await lagMs() };
  };
  const show = (label: string, r: { p50: number; max: number; lag: number }) =>
    console.log(
      `${label}: publish p50 ${r.p50.toFixed(1)} ms, max ${r.max.toFixed(1)} ms; longest event-loop block ${r.lag.toFixed(0)} ms`,
    );

  show("live, no hostile subscriber", await publishes());
  let accepted = 0;
  for (let ip = 0; ip < IPS; ip++) {
    const query = new URLSearchParams();
    for (let i = 0; i < 32; i++) query.append("match_urlpattern", hostile(ip * 32 + i));
    if ((await stream(query, `127.0.${2 + (ip >> 8)}.${(ip & 255) + 1}`)) === 200) accepted++;
  }
  show(`live, ${accepted} IPs x 32 distinct hostile patterns`, await publishes());
  for (const s of open.splice(0)) s.destroy();

  for (let i = 0; i < 10_000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, k) => publish(`https://example.com/${"a".repeat(30)}/${i + k}`)),
    );
  }
  await lagMs();
  const query = new URLSearchParams();
  for (let i = 0; i < 32; i++) query.append("match_urlpattern", hostile(i));
  query.append("last_event_id", "earliest");
  const started = performance.now();
  const health = fetch(`${server.url}/healthz`).then(() => performance.now() - started);
  await Promise.all(Array.from({ length: 10 }, () => stream(query, "127.0.1.1")));
  const healthMs = await health;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  console.log(
    `replay: 10 streams x 32 hostile patterns from earliest over 10,000 updates: /healthz ${healthMs.toFixed(0)} ms; longest event-loop block ${(await lagMs()).toFixed(0)} ms`,
  );
} finally {
  for (const s of open) s.destroy();
  await server.stop();
}
