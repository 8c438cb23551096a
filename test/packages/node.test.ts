/**
 * herald-client from its tarball in plain Node programs (an ES module and a CommonJS file), against
 * a herald installed from its tarball and started with `npx herald`: on this machine's Node, and on
 * Node 22 and 24 fetched from npm as the `node` package (the npm cache serves later runs offline).
 * And herald itself as a library (consumers/embed.mjs), on the running Node.
 */
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  freePort,
  installInto,
  type Packed,
  type PackedHerald,
  packTarballs,
  removeScratch,
  run,
  startPackedHerald,
} from "../helpers/packages.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const CONSUMERS = new URL("./consumers/", import.meta.url);

const binaries = new Map<number, Promise<string>>();

/** The binary of Node `major` from npm's `node` package (fetched once, then from the npm cache). */
function nodeFromNpm(major: number, cwd: string): Promise<string> {
  let binary = binaries.get(major);
  if (binary === undefined) {
    binary = fetchNode(major, cwd);
    binaries.set(major, binary);
  }
  return binary;
}

async function fetchNode(major: number, cwd: string): Promise<string> {
  try {
    const { stdout } = await run(
      "npx",
      ["-y", "--prefer-offline", `node@${major}`, "-p", "process.execPath"],
      {
        cwd,
        timeoutMs: 120_000,
      },
    );
    return stdout.trim();
  } catch (error) {
    throw new Error(
      `could not get Node ${major} from the npm registry as the \`node\` package (npx -y node@${major}); ` +
        `the registry must be reachable once, later runs use the npm cache. ${(error as Error).message}`,
    );
  }
}

describe("herald-client in Node, and herald as a library, from the tarballs", () => {
  let packed: Packed | undefined;
  let herald: PackedHerald | undefined;
  let consumerDir: string;
  let serverDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    packed = await packTarballs("node-consumers");
    const [server, consumer] = await Promise.all([
      installInto(packed, "server", [packed.herald]),
      installInto(packed, "consumer", [packed.client, "rxjs@^7.8.0"]),
    ]);
    console.log(`npm install: herald ${server.ms} ms, herald-client + rxjs ${consumer.ms} ms`);
    consumerDir = consumer.dir;
    serverDir = server.dir;
    for (const file of ["consumer.mjs", "consumer.cjs"]) {
      await copyFile(new URL(file, CONSUMERS), join(consumerDir, file));
    }
    herald = await startPackedHerald(server.dir, await freePort(), [], { HERALD_JWT_SECRET: TEST_SECRET });
    const token = await heraldToken({ publish: ["*"] });
    env = { ...process.env, HERALD_URL: herald.url, HERALD_TOKEN: token };
  });

  after(async () => {
    await herald?.stop();
    await removeScratch(packed);
  });

  // The Node running the suite (20, or 24 when CI runs the suite again on it), then 22 and 24 from
  // npm unless that is the running one.
  const running = Number(process.versions.node.split(".")[0]);
  const nodes: { name: string; binary: () => Promise<string> }[] = [
    { name: `the running Node (${process.version})`, binary: async () => process.execPath },
    ...[22, 24]
      .filter((major) => major !== running)
      .map((major) => ({ name: `Node ${major} from npm`, binary: () => nodeFromNpm(major, consumerDir) })),
  ];

  test("herald as a library: a program imports it, starts a hub, publishes through it, reads the stream, exits", async () => {
    await copyFile(new URL("embed.mjs", CONSUMERS), join(serverDir, "embed.mjs"));
    const { stdout } = await run(process.execPath, ["embed.mjs"], { cwd: serverDir, timeoutMs: 30_000 });
    const out = JSON.parse(stdout) as { url: string; refused: string; id: string; stream: string };
    assert.match(out.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(out.refused, /HERALD_WEBHOOK_URL.*needs HERALD_WEBHOOK_SECRET/);
    assert.ok(out.stream.includes(`id: ${out.id}\n`), out.stream);
    assert.ok(out.stream.includes("data: from the host program\n"), out.stream);
  });

  for (const node of nodes) {
    test(`${node.name}: consumer.mjs subscribes (SDK and rx), publishes, receives both events, exits`, async () => {
      const binary = await node.binary();
      const { stdout } = await run(binary, ["consumer.mjs"], { cwd: consumerDir, env, timeoutMs: 30_000 });
      const out = JSON.parse(stdout) as {
        node: string;
        published: string[];
        received: { id: string; data: unknown }[];
        rx: { id: string; data: unknown };
      };
      assert.equal(out.published.length, 2);
      assert.deepEqual(out.received, [
        { id: out.published[0], data: { n: 1 } },
        { id: out.published[1], data: { n: 2 } },
      ]);
      assert.deepEqual(out.rx, { id: out.published[0], data: { n: 1 } });
    });

    test(`${node.name}: consumer.cjs loads herald-client with require(), subscribes, publishes`, async () => {
      const binary = await node.binary();
      const { stdout } = await run(binary, ["consumer.cjs"], { cwd: consumerDir, env, timeoutMs: 30_000 });
      const out = JSON.parse(stdout) as { published: string; received: { id: string; data: unknown } };
      assert.deepEqual(out.received, { id: out.published, data: { from: "require" } });
    });
  }
});
