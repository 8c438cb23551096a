/**
 * Herald behind a real nginx configured with deploy/nginx-herald.conf, the file docs/deploy.md tells
 * users to include: streams pass unbuffered, resume with Last-Event-ID through the proxy, per-IP
 * limits see the client's address (--trust-proxy), and HTTP/2 at the proxy carries many streams on
 * one client connection (the browser's limit of six HTTP/1.1 connections per origin).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/brokers.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { eventually, until } from "../helpers/waiters.ts";

const NGINX = "/usr/sbin/nginx";
/** Streams allowed per client IP: the HTTP/2 test's eight, plus one still closing. */
const PER_IP = 9;
const SNIPPET = fileURLToPath(new URL("../../deploy/nginx-herald.conf", import.meta.url));

/** nginx (daemon off, its own temp dir) proxying `listen` (HTTP/1.1) and `listenH2` (h2c) to Herald. */
async function startNginx(
  heraldPort: number,
): Promise<{ url: string; h2url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "herald-nginx-"));
  const [port, h2port] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream herald {
    server 127.0.0.1:${heraldPort};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    include ${SNIPPET};
  }
  server {
    listen 127.0.0.1:${h2port} http2;
    include ${SNIPPET};
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ["-c", join(dir, "nginx.conf"), "-p", dir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => (await fetch(`${url}/healthz`)).ok, `nginx to answer: ${stderr}`, 10_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; error.log: ${readErrorLog(dir)}`);
  }
  return { url, h2url: `http://127.0.0.1:${h2port}`, stop };
}

function readErrorLog(dir: string): string {
  try {
    return readFileSync(join(dir, "error.log"), "utf8");
  } catch {
    return "";
  }
}

/** The status of `GET url` sent from the local address `from`; the response is left open. */
function statusFrom(url: string, from: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, headers: { accept: "text/event-stream" } }, (res) => {
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.once("error", reject);
    req.end();
  });
}

async function publish(url: string, topic: string, data: string): Promise<string> {
  const res = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, data }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

describe("Herald behind nginx with deploy/nginx-herald.conf", {
  skip: !existsSync(NGINX) && "nginx is not installed",
}, () => {
  let herald: HeraldProcess;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  const closers: (() => void)[] = [];
  before(async () => {
    // A heartbeat far longer than any wait below: an event that arrives did not ride on a
    // heartbeat flushing a buffer.
    herald = await spawnHerald([
      "--heartbeat",
      "10m",
      "--trust-proxy",
      "--max-connections-per-ip",
      String(PER_IP),
    ]);
    nginx = await startNginx(Number(new URL(herald.url).port));
  });
  after(async () => {
    for (const close of closers) close();
    await nginx?.stop();
    if (herald !== undefined) await stopHerald(herald);
  });

  test("a stream through nginx gets each event at once, and resumes with Last-Event-ID through it", async () => {
    const client = new RecordingClient(`${nginx.url}/events?topic=news`, ["message"]);
    closers.push(() => client.close());
    await client.opened();
    await publish(nginx.url, "news", "one small event");
    await client.until(() => client.events.length === 1);
    assert.deepEqual(client.datas(), ["one small event"]);
    const lastId = client.events[0]?.id as string;
    client.close();
    // published while the client is away; its resume through nginx replays them
    await publish(nginx.url, "news", "two");
    await publish(nginx.url, "news", "three");
    const resumed = new RecordingClient(`${nginx.url}/events?topic=news`, ["message"], {
      "Last-Event-ID": lastId,
    });
    closers.push(() => resumed.close());
    await resumed.until(() => resumed.events.length === 2);
    assert.deepEqual(resumed.datas(), ["two", "three"]);
    resumed.close();
  });

  test("per-IP stream limits count the client's address, not nginx's (--trust-proxy)", async () => {
    const url = `${nginx.url}/events?topic=ip`;
    const opened = [];
    for (let i = 0; i < PER_IP; i++) opened.push(await statusFrom(url, "127.0.0.3"));
    for (const s of opened) closers.push(s.close);
    assert.deepEqual(
      opened.map((s) => s.status),
      opened.map(() => 200),
    );
    // the same address once more: over its limit
    const over = await statusFrom(url, "127.0.0.3");
    closers.push(over.close);
    assert.equal(over.status, 429);
    // another client address (through the same nginx): its own allowance
    const other = await statusFrom(url, "127.0.0.4");
    closers.push(other.close);
    assert.equal(other.status, 200);
    for (const s of [...opened, over, other]) s.close();
  });

  test("a client cannot choose the Mercure resource identifier (the tokens' aud) with X-Forwarded-Host", async () => {
    const metadata = `${nginx.url}/.well-known/oauth-protected-resource/.well-known/mercure`;
    const resource = async (headers: Record<string, string>) =>
      ((await (await fetch(metadata, { headers })).json()) as { resource: string }).resource;
    const honest = await resource({});
    assert.match(honest, /^http:\/\/127\.0\.0\.1(:\d+)?\/\.well-known\/mercure$/);
    assert.equal(
      await resource({ "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }),
      honest,
    );
  });

  test("HTTP/2 at the proxy: eight streams share one client connection, each gets the event", async () => {
    const session = connect(nginx.h2url);
    closers.push(() => session.destroy());
    const texts = Array.from({ length: 8 }, () => "");
    const streams = texts.map((_, i) => {
      const stream = session.request({ ":path": `/events?topic=h2`, accept: "text/event-stream" });
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        texts[i] += chunk;
      });
      return stream;
    });
    closers.push(() => {
      for (const s of streams) s.close();
    });
    // Herald sees eight streams (nginx opens one upstream connection per stream)
    await eventually(
      async () =>
        ((await (await fetch(`${herald.url}/status`)).json()) as { connections: number }).connections >= 8,
      "Herald to count the eight streams",
      10_000,
    );
    await publish(nginx.url, "h2", "to every tab");
    await until(
      () => texts.every((t) => t.includes("data: to every tab\n")),
      "every HTTP/2 stream to get the event",
    );
    for (const s of streams) s.close();
    session.close();
  });
});
