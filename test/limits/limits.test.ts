import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/** With HERALD_TRUST_PROXY each test client gets its own address through X-Forwarded-For. */
const from = (ip: string) => ({ "x-forwarded-for": ip });

describe("limits: each is hit while other clients are still served", () => {
  let herald: Herald;
  let watcher: RawStream;
  let seq = 0;
  const streams: RawStream[] = [];

  /** Publishes on `watch` and checks the watcher (a stream opened first) still receives. */
  async function stillServed(): Promise<void> {
    const id = `w${++seq}`;
    const res = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...from(`10.9.9.${seq}`) },
      body: JSON.stringify({ topic: "watch", data: id, id }),
    });
    assert.equal(res.status, 200, res.text);
    await watcher.until(() => watcher.ids().includes(id));
  }
  const open = async (ip: string) => {
    const stream = new RawStream(`${herald.url}/events?topic=t`, from(ip));
    streams.push(stream);
    await stream.until(() => stream.status !== 0 && (stream.status !== 200 || stream.text.includes(": ok")));
    return stream;
  };
  const publishAs = (headers: Record<string, string>, body: unknown) =>
    httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      trustProxy: true,
      maxConnections: 6,
      maxConnectionsPerIp: 2,
      maxEventBytes: 1024,
      maxBodyBytes: 4096,
      publishRate: 1,
      publishBurst: 3,
      maxTopics: 4,
      maxTopicLength: 32,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      corsOrigins: ["https://app.example"],
    });
    watcher = new RawStream(`${herald.url}/events?topic=watch`, from("10.0.0.99"));
    await watcher.opened();
  });
  after(async () => {
    for (const stream of streams) stream.close();
    watcher.close();
    await herald.close();
  });

  it("refuses a third stream from one IP with 429 + Retry-After", async () => {
    assert.equal((await open("10.0.0.1")).status, 200);
    assert.equal((await open("10.0.0.1")).status, 200);
    const third = await open("10.0.0.1");
    assert.equal(third.status, 429);
    assert.equal(third.headers["retry-after"], "5");
    assert.match(third.text, /HERALD_MAX_CONNECTIONS_PER_IP/);
    assert.equal((await open("10.0.0.2")).status, 200, "another IP still gets a stream");
    await stillServed();
  });

  it("refuses streams above the node's total with 503 + Retry-After, and frees slots on close", async () => {
    await open("10.0.0.2");
    const sixth = await open("10.0.0.3");
    assert.equal(sixth.status, 200);
    assert.equal(herald.streamLimits.open, 6);
    const refused = await open("10.0.0.4");
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "5");
    assert.match(refused.text, /HERALD_MAX_CONNECTIONS/);
    await stillServed();
    sixth.close();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (herald.streamLimits.open !== 5) return;
        clearInterval(poll);
        resolve();
      }, 10);
    });
    assert.equal((await open("10.0.0.4")).status, 200, "a freed slot is usable");
  });

  it("limits publishes per token and per anonymous IP with 429 + Retry-After", async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await publishAs(from("10.1.0.1"), { topic: "t", data: "x" })).status, 200);
    const limited = await publishAs(from("10.1.0.1"), { topic: "t", data: "x" });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["retry-after"], "1");
    assert.match((limited.body as { message: string }).message, /HERALD_PUBLISH_RATE/);
    const tokenA = await heraldToken({ publish: ["*"] }, { subject: "a" });
    const tokenB = await heraldToken({ publish: ["*"] }, { subject: "b" });
    for (let i = 0; i < 3; i++)
      await publishAs({ ...from("10.1.0.1"), ...bearer(tokenA) }, { topic: "t", data: "x" });
    const limitedA = await publishAs({ ...from("10.1.0.2"), ...bearer(tokenA) }, { topic: "t", data: "x" });
    assert.equal(limitedA.status, 429, "the token's bucket follows it across addresses");
    const okB = await publishAs({ ...from("10.1.0.1"), ...bearer(tokenB) }, { topic: "t", data: "x" });
    assert.equal(okB.status, 200, "another token from the same address is not limited");
    await stillServed();
  });

  it("refuses oversized events (UTF-8 bytes) and bodies with 413", async () => {
    const big = await publishAs(from("10.2.0.1"), { topic: "t", data: "x".repeat(1025) });
    assert.equal(big.status, 413);
    assert.match(
      (big.body as { message: string }).message,
      /event data is 1025 bytes; the limit is 1024 bytes/,
    );
    const wide = await publishAs(from("10.2.0.1"), { topic: "t", data: "é".repeat(600) });
    assert.equal(wide.status, 413, "600 characters, 1200 bytes");
    const body = await publishAs(from("10.2.0.2"), { topic: "t", data: "x", pad: "y".repeat(5000) });
    assert.equal(body.status, 413);
    assert.match((body.body as { message: string }).message, /HERALD_MAX_BODY/);
    await stillServed();
  });

  it("refuses too many topics and too long topics in a subscription with 400", async () => {
    const many = await httpRequest(`${herald.url}/events?topic=a&topic=b&topic=c&topic=d&topic=e`, {
      headers: from("10.3.0.1"),
    });
    assert.equal(many.status, 400);
    assert.match((many.body as { message: string }).message, /at most 4 topics \(HERALD_MAX_TOPICS\)/);
    const long = await httpRequest(`${herald.url}/events?topic=${"a".repeat(33)}`, {
      headers: from("10.3.0.1"),
    });
    assert.equal(long.status, 400);
    assert.match((long.body as { message: string }).message, /33 characters long; the limit is 32/);
    assert.equal(herald.streamLimits.open, 6, "refused streams hold no slot");
    await stillServed();
  });

  it("cuts off clients sending headers or bodies byte by byte (slow-loris) with 408; others are served meanwhile", async () => {
    const slow: { socket: Socket; text: string; closed: boolean }[] = [];
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 20; i++) {
      const socket = connect(Number(new URL(herald.url).port), "127.0.0.1");
      const entry = { socket, text: "", closed: false };
      slow.push(entry);
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        entry.text += chunk;
      });
      socket.on("close", () => {
        entry.closed = true;
      });
      socket.on("error", () => {});
      // Half send their headers byte by byte; the other half a body (HERALD_REQUEST_TIMEOUT).
      socket.write(
        i % 2 === 0
          ? "GET /events?topic=t HTTP/1.1\r\nHost: x\r\nX-Slow: "
          : `POST /publish HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.5.0.${i}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"topic":"t","data":"`,
      );
      timers.push(setInterval(() => socket.writable && socket.write("a"), 50));
    }
    try {
      await stillServed();
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error("slow clients were not cut off")), 8000);
        const poll = setInterval(() => {
          if (slow.every((s) => s.closed)) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 50);
      });
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const s of slow) s.socket.destroy();
    }
    for (const s of slow) assert.match(s.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    await stillServed();
  });

  it("allows CORS only for listed origins, with credentials", async () => {
    const listed = await httpRequest(`${herald.url}/publish`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    assert.equal(listed.status, 204);
    assert.equal(listed.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(listed.headers["access-control-allow-credentials"], "true");
    assert.match(listed.headers["access-control-allow-headers"] as string, /Authorization/);
    const other = await httpRequest(`${herald.url}/publish`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    assert.equal(other.headers["access-control-allow-credentials"], undefined);
    const stream = new RawStream(`${herald.url}/events?topic=watch`, {
      origin: "https://evil.example",
      ...from("10.4.0.1"),
    });
    await stream.until(() => stream.status !== 0);
    assert.equal(stream.headers["access-control-allow-origin"], undefined);
    stream.close();
  });
});

describe("CORS with *", () => {
  it("allows any origin without credentials", async () => {
    const herald = await startTestHerald({ corsOrigins: ["*", "https://app.example"] });
    try {
      const any = await httpRequest(`${herald.url}/healthz`, { headers: { origin: "https://x.example" } });
      assert.equal(any.headers["access-control-allow-origin"], "*");
      assert.equal(any.headers["access-control-allow-credentials"], undefined);
      const listed = await httpRequest(`${herald.url}/healthz`, {
        headers: { origin: "https://app.example" },
      });
      assert.equal(listed.headers["access-control-allow-origin"], "https://app.example");
      assert.equal(listed.headers["access-control-allow-credentials"], "true");
    } finally {
      await herald.close();
    }
  });
});
