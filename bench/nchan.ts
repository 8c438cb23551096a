/**
 * The reference hub: nginx with the nchan module (Debian packages `nginx` and `libnginx-mod-nchan`),
 * configured and run by the bench: its own temporary directory (config, pid, error log, temp
 * paths), a free port, `daemon off` so the master is our child, stopped by its PID (SIGTERM, then
 * SIGKILL to the master and its workers) and the directory removed.
 *
 * Same URLs as Herald's where it matters: subscribers `GET /events?topic=T` (EventSource: nchan
 * opens a stream with `: hi` and writes `id: <time>:<tag>` + `data: <body>`), publishers
 * `POST /publish?topic=T` whose body is the event's data as is (answer 201/202 with a short text).
 * `worker_processes auto`: one nginx worker per CPU, as deployed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, HOST, type ServerHandle, sleep, stopChild } from "./harness.ts";
import { tree, treeCpuMs, treePss, treeRss } from "./proc.ts";

const MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";
const NGINX = "/usr/sbin/nginx";

/** Why nchan cannot run here (a sentence saying how to fix it), or undefined when it can. */
export function nchanMissing(): string | undefined {
  if (!existsSync(NGINX) || !existsSync(MODULE))
    return "nginx with nchan is not installed: apt-get install -y nginx libnginx-mod-nchan (then `service nginx stop`)";
  return undefined;
}

function config(dir: string, port: number): string {
  return `load_module ${MODULE};
daemon off;
master_process on;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  # below the open-file limit of a process here (20,000; nginx may not raise it)
  worker_connections 19900;
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # a keep-alive publisher is never cut after nginx's default 1,000 requests
  keepalive_requests 100000000;
  client_body_buffer_size 64k;
  server {
    listen ${HOST}:${port} backlog=4096;
    location = /publish {
      nchan_publisher;
      nchan_channel_id $arg_topic;
      nchan_message_buffer_length 1000;
    }
    location = /events {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_topic;
    }
  }
}
`;
}

/** Starts nginx + nchan on a free port and waits until it answers. */
export async function startNchan(): Promise<ServerHandle> {
  const missing = nchanMissing();
  if (missing !== undefined) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-nchan-"));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), config(dir, port));
  const child = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    for (const line of chunk.split("\n")) if (line !== "") console.log(`  nginx: ${line}`);
  });
  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}`);
    // any answer will do: nchan says 404 for a channel nobody published to yet
    const status = await fetch(`${url}/publish?topic=ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 0) break;
    if (Date.now() > deadline) throw new Error("nginx did not answer in 10 s");
    await sleep(50);
  }
  const pid = child.pid as number;
  return {
    name: "nchan",
    pid,
    port,
    url,
    opened: ": hi",
    publishRequest: (topic, data) => ({
      path: `/publish?topic=${encodeURIComponent(topic)}`,
      contentType: "application/json",
      body: data,
    }),
    cpuMs: () => treeCpuMs(pid),
    sysMs: () => treeCpuMs(pid, true),
    rss: () => treeRss(pid),
    pss: () => treePss(pid),
    stop: async () => {
      // SIGTERM: nginx's fast shutdown (the master stops its workers); any worker left is killed
      const pids = tree(pid);
      await stopChild(child);
      for (const p of pids.slice(1)) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
