/**
 * The seed's Angular client for real: examples/angular, with herald-client installed from its
 * tarball, built by the Angular CLI (`ng build`), served by a small static server on its own port,
 * next to a herald installed from its tarball (`npx herald`, CORS allowing the app's origin), and
 * opened in Debian's Chromium. The seed's flow: `POST /broadcast {"message":"hi"}` shows
 * `Message: hi`; Herald restarts on the same port; the next broadcast shows, none missed (the page
 * lists every message it received: exactly the two broadcasts, in order).
 *
 * It builds with the newest Angular major that runs on this Node (test/helpers/angular.ts: Angular 21
 * on Node 20, Angular 22 on Node 22.22.3+ and 24.15+), logs the versions the build used, and checks
 * that the page runs that Angular (the root element's `ng-version`).
 */
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { basename, extname, join, normalize } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { type AngularMajor, angularMajors, newestAngularFor } from "../helpers/angular.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import {
  freePort,
  installInto,
  npmInstall,
  type Packed,
  type PackedHerald,
  packTarballs,
  removeScratch,
  run,
  startPackedHerald,
} from "../helpers/packages.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/angular/", import.meta.url));
const ARTIFACTS = "test-artifacts";
const skip = browserSkip;
if (skip) console.log(skip);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".ico": "image/x-icon",
};

/** Serves the built app (`root`) on 127.0.0.1:`port`; unknown paths get index.html, as an app's server does. */
function serveStatic(root: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(root, path === "/" || extname(path) === "" ? "index.html" : path);
    readFile(file).then(
      (body) =>
        res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** The version of `pkg` npm installed in `dir`. */
async function installedVersion(dir: string, pkg: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, "node_modules", pkg, "package.json"), "utf8"));
  return (manifest as { version: string }).version;
}

describe("the seed's Angular client (examples/angular) from the tarballs, in Chromium", { skip }, () => {
  let packed: Packed | undefined;
  let herald: PackedHerald | undefined;
  let serverDir: string;
  let heraldPort: number;
  let appOrigin: string;
  let app: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let token: string;
  let angular: AngularMajor;
  let angularVersion: string;
  const errors: Error[] = [];

  const start = () =>
    startPackedHerald(serverDir, heraldPort, ["--cors-origins", appOrigin], {
      HERALD_JWT_SECRET: TEST_SECRET,
    });

  const broadcast = async (message: string) => {
    const response = await fetch(`http://127.0.0.1:${heraldPort}/broadcast`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message }),
    });
    assert.deepEqual(await response.json(), { success: true, code: 200 });
  };

  const received = () => page.$$eval("#received li", (items) => items.map((li) => li.textContent?.trim()));

  // A fresh npm cache on a loaded machine makes the install the long part: more than the 240 s a test gets.
  before(
    async () => {
      angular = newestAngularFor(await angularMajors(EXAMPLE), process.version);
      packed = await packTarballs("angular");
      const appDir = join(packed.dir, "app");
      await cp(EXAMPLE, appDir, {
        recursive: true,
        filter: (source) =>
          !["node_modules", "dist", ".angular", "out-tsc"].includes(basename(source)) &&
          !/^angular-\d+$/.test(basename(source)),
      });
      for (const file of ["package.json", "package-lock.json"])
        await cp(join(angular.dir, file), join(appDir, file));
      const manifest = JSON.parse(await readFile(join(appDir, "package.json"), "utf8"));
      manifest.dependencies["herald-client"] = `file:${packed.client}`;
      await writeFile(join(appDir, "package.json"), JSON.stringify(manifest, null, 2));
      const [server, install] = await Promise.all([
        installInto(packed, "server", [packed.herald]),
        npmInstall(appDir),
      ]);
      const build = await run("npx", ["--offline", "ng", "build"], {
        cwd: appDir,
        env: { ...process.env, NG_CLI_ANALYTICS: "false" },
        timeoutMs: 240_000,
      });
      angularVersion = await installedVersion(appDir, "@angular/core");
      assert.equal(angularVersion, angular.version, `the install follows ${angular.dir}/package-lock.json`);
      console.log(
        `Angular ${angular.major} on Node ${process.version} (the newest major it supports): @angular/core ${angularVersion}, ` +
          `@angular/build ${await installedVersion(appDir, "@angular/build")}, TypeScript ${await installedVersion(appDir, "typescript")}`,
      );
      console.log(
        `npm install: the Angular app ${install.ms} ms, herald ${server.ms} ms (in parallel); ng build ${build.ms} ms`,
      );
      serverDir = server.dir;
      const appPort = await freePort();
      appOrigin = `http://127.0.0.1:${appPort}`;
      app = await serveStatic(join(appDir, "dist", "herald-angular", "browser"), appPort);
      heraldPort = await freePort();
      herald = await start();
      token = await heraldToken({ publish: ["broadcast"] });
      browser = await launchChromium();
      page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      page.on("pageerror", (error) => errors.push(error));
      await page.goto(`${appOrigin}/?herald=${encodeURIComponent(`http://127.0.0.1:${heraldPort}`)}`);
      await page.waitForFunction(() => document.getElementById("state")?.textContent === "open");
    },
    { timeout: 480_000 },
  );

  after(async () => {
    if (browser) {
      await mkdir(ARTIFACTS, { recursive: true });
      await page?.screenshot({ path: join(ARTIFACTS, "angular-example.png") }).catch(() => undefined);
    }
    await browser?.close();
    await herald?.stop();
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await removeScratch(packed);
  });

  test("the page runs the Angular the app was built with (the root element's ng-version)", async () => {
    const ngVersion = await page.getAttribute("app-root", "ng-version");
    assert.equal(ngVersion, angularVersion);
    assert.equal(ngVersion?.split(".")[0], String(angular.major));
  });

  test('POST /broadcast {"message":"hi"} shows "Message: hi"', async () => {
    await broadcast("hi");
    await page.waitForFunction(() => document.getElementById("message")?.textContent === "Message: hi");
    assert.deepEqual(await received(), ["hi"]);
  });

  test("after Herald restarts on the same port, the next broadcast shows, none missed", async () => {
    await herald?.stop();
    herald = await start();
    // The page is back on the new Herald once it shows the hub's notice: the in-memory history
    // started anew, so the hub cannot resume after the old id and says so (herald.missed, epoch-changed).
    await page.waitForSelector(".missed", { timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "open");
    await broadcast("after the restart");
    await page.waitForFunction(
      () => document.getElementById("message")?.textContent === "Message: after the restart",
    );
    assert.deepEqual(await received(), ["hi", "after the restart"]);
    assert.match((await page.textContent(".missed")) ?? "", /\(epoch-changed\)/);
    assert.equal(await page.locator("#error").count(), 0);
    assert.deepEqual(errors, []);
  });
});
