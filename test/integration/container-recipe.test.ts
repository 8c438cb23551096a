import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/brokers.ts";
import { envOf, execForm, type Instruction, parseDockerfile } from "../helpers/dockerfile.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";

/**
 * The container recipe (Dockerfile, compose.yaml) run without a container engine: this test reads
 * the Dockerfile and performs its steps itself, so the two cannot drift. A "container filesystem"
 * is a scratch folder: an absolute path of the image maps into it, except the build stage's
 * WORKDIR, which is this repository (its `COPY . .`). Two build steps are not re-run: `npm ci`
 * (the repository's node_modules is installed from the same lockfile, and shared: not replaced
 * here) and `npm run build` (`npm test` builds before the tests). Everything after them is run as
 * written: `npm pack`, the install of the tarball with production dependencies only, and the
 * image's CMD with its ENV, as its USER where the test runs as root, then its HEALTHCHECK.
 */
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const stages = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8"));
const [build, runtime] = [stages[0], stages[stages.length - 1]];
const stepsOf = (stage: typeof build, op: string): Instruction[] =>
  stage?.steps.filter((s) => s.op === op) ?? [];
const one = (stage: typeof build, op: string): Instruction => {
  const found = stepsOf(stage, op);
  assert.equal(found.length, 1, `one ${op} in the stage`);
  return found[0] as Instruction;
};

describe("the container recipe (Dockerfile, compose.yaml)", () => {
  it("builds in stages, runs node on the installed herald bin as a non-root user, one worker, a HEALTHCHECK on /healthz", () => {
    assert.ok(stages.length >= 2, "a build stage and a runtime stage");
    const runs = stepsOf(build, "RUN").map((s) => s.args);
    assert.ok(runs.some((r) => r.startsWith("npm ci")) && runs.includes("npm run build"));
    assert.ok(
      runs.some((r) => r.includes("npm pack")),
      "the build stage packs the herald package",
    );
    assert.ok(
      stepsOf(runtime, "RUN").some((s) => /npm install --omit=dev/.test(s.args)),
      "the runtime installs the tarball with production dependencies only",
    );
    assert.ok(!["root", "0", ""].includes(one(runtime, "USER").args), "a non-root user");
    assert.equal(envOf(one(runtime, "ENV").args).HERALD_WORKERS, "1", "one worker per container");
    const cmd = execForm(one(runtime, "CMD").args);
    assert.equal(cmd[0], "node");
    assert.match(cmd[1] ?? "", /node_modules\/herald\/bin\/herald\.js$/);
    const health = one(runtime, "HEALTHCHECK").args;
    assert.ok(health.startsWith("CMD "), "exec form");
    const check = execForm(health.slice(4));
    assert.equal(check[0], "node", "no curl in a slim image: node's fetch");
    assert.match(check.join(" "), /\/healthz/);
    assert.equal(one(runtime, "STOPSIGNAL").args, "SIGTERM");
    const compose = readFileSync(join(REPO, "compose.yaml"), "utf8");
    assert.match(compose, /^ {4}build: \.$/m, "compose builds this Dockerfile");
    assert.match(compose, /HERALD_BUS: redis:\/\/redis:6379/);
    assert.match(compose, /^ {2}redis:$/m);
    assert.doesNotMatch(compose, /^\s+(command|entrypoint):.*herald/m, "compose starts the image's CMD");
  });

  describe("its steps, run here: pack, install with production dependencies only, start as the image would", () => {
    const root = mkdtempSync(join(tmpdir(), "herald-image-"));
    chmodSync(root, 0o755); // the image's USER reads the install
    after(() => rmSync(root, { recursive: true, force: true }));
    const buildDir = one(build, "WORKDIR").args;
    const path = (p: string) =>
      p.startsWith(buildDir) ? join(REPO, p.slice(buildDir.length)) : join(root, p);
    const inShell = (command: string) =>
      command.replace(/(^|[\s=])(\/[^\s'"]*)/g, (_m, pre: string, p: string) => pre + path(p));
    const sh = (command: string, cwd: string) => {
      const result = spawnSync("sh", ["-c", inShell(command)], {
        cwd,
        // the machine's npm cache stands in for the image build's cache mount
        env: { ...process.env, npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
        encoding: "utf8",
        timeout: 180_000,
      });
      assert.equal(result.status, 0, `${command}\n${result.stdout}\n${result.stderr}`);
    };

    it("runs every step after `npm ci` and `npm run build`; the install holds the herald package and its production dependencies only", () => {
      assert.ok(existsSync(join(REPO, "packages/herald/dist/cli.js")), "built (npm run build)");
      for (const stage of [build, runtime]) {
        let cwd = REPO;
        for (const step of stage?.steps ?? []) {
          if (step.op === "WORKDIR") {
            cwd = path(step.args);
            mkdirSync(cwd, { recursive: true });
          } else if (step.op === "COPY" && step.flags.from !== undefined) {
            const [from = "", to = ""] = step.args.split(/\s+/);
            mkdirSync(dirname(path(to)), { recursive: true });
            copyFileSync(path(from), path(to));
          } else if (step.op === "RUN" && !step.args.startsWith("npm ci") && step.args !== "npm run build") {
            sh(step.args, cwd);
          }
        }
      }
      const modules = path(`${one(runtime, "WORKDIR").args}/node_modules`);
      const installed = readdirSync(modules);
      for (const wanted of [
        "herald",
        "pino",
        "jose",
        "commander",
        "redis",
        "rabbitmq-client",
        "prom-client",
      ]) {
        assert.ok(installed.includes(wanted), `${wanted} installed`);
      }
      for (const dev of [
        "typescript",
        "tsx",
        "esbuild",
        "@biomejs",
        "eventsource",
        "playwright-core",
        "herald-client",
      ]) {
        assert.ok(!installed.includes(dev), `${dev} (a dev dependency) not installed`);
      }
    });

    it("CMD with the image's ENV and USER: /healthz (its HEALTHCHECK), a publish and a stream; SIGTERM exits 0 and leaves no process", async () => {
      const port = await freePort();
      const env = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...envOf(one(runtime, "ENV").args),
        HERALD_PORT: String(port), // `docker run -p <port>:8080`: a free port here, no network namespace
        HERALD_JWT_SECRET: TEST_SECRET, // `-e HERALD_JWT_SECRET=...`, as compose.yaml sets it
      };
      const node = (args: string[]) =>
        args.map((a, i) => (i === 0 && a === "node" ? process.execPath : a.startsWith("/") ? path(a) : a));
      const user = asImageUser(one(runtime, "USER").args);
      const cwd = path(one(runtime, "WORKDIR").args);
      const [command = "", ...args] = node(execForm(one(runtime, "CMD").args));
      const child = spawn(command, args, { cwd, env, ...user, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | string>((resolve) =>
        child.once("exit", (c, s) => resolve(c ?? s ?? -1)),
      );
      const healthcheck = () => {
        const [check = "", ...checkArgs] = node(execForm(one(runtime, "HEALTHCHECK").args.slice(4)));
        return spawnSync(check, checkArgs, { cwd, env, ...user, timeout: 30_000 }).status;
      };
      try {
        await until(
          () => output.includes('"msg":"Herald listening"') || child.exitCode !== null,
          "Herald listening",
          60_000,
        );
        const [listening] = logLines(output).filter((l) => l.msg === "Herald listening");
        assert.ok(listening !== undefined, output);
        assert.match(String(listening.address), new RegExp(`:${port}$`));
        assert.equal(healthcheck(), 0, "the HEALTHCHECK passes");

        const url = `http://127.0.0.1:${port}`;
        const stream = new RawStream(`${url}/events?topic=image`);
        await stream.opened();
        const token = await heraldToken({ publish: ["*"] });
        const answer = await httpRequest(`${url}/publish`, {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(token) },
          body: JSON.stringify({ topic: "image", id: "i1", data: "from the packed install" }),
        });
        assert.equal(answer.status, 200, answer.text);
        await stream.until(() => stream.text.includes("data: from the packed install\n"));

        child.kill(one(runtime, "STOPSIGNAL").args as NodeJS.Signals);
        assert.equal(await exited, 0, output);
        await stream.until(() => stream.closed);
        const lines = logLines(output); // JSON lines only (HERALD_LOG_FORMAT=json in the image)
        await expectAllGone(
          lines.map((l) => l.pid),
          "after SIGTERM",
        );
        assert.notEqual(healthcheck(), 0, "the HEALTHCHECK fails once Herald is gone");
      } finally {
        child.kill("SIGKILL");
      }
    });
  });
});

/**
 * Run as the image's USER where the test can: `node` is uid/gid 1000 in the node images. Only as
 * root, and only when that user can reach this node binary (not one under /root, e.g. from npx).
 */
function asImageUser(user: string): { uid?: number; gid?: number } {
  assert.equal(user, "node", "the node images' non-root user");
  if (process.getuid?.() !== 0) return {};
  for (let p = process.execPath; p !== dirname(p); p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return {};
  }
  return { uid: 1000, gid: 1000 };
}
