/**
 * herald-client's types from its tarball: consumers/consumer.ts (and a CommonJS consumer.cts) type-check
 * with the repository's TypeScript (`tsc --noEmit`, library files checked too) in a scratch project,
 * under module/moduleResolution NodeNext, under CommonJS + node10 (older projects) and under module
 * ESNext + moduleResolution Bundler.
 */
import assert from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  installInto,
  type Packed,
  packTarballs,
  REPO_ROOT,
  removeScratch,
  run,
} from "../helpers/packages.ts";

const CONSUMERS = new URL("./consumers/", import.meta.url);
const TSC = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");

/** Both configurations check library files (no skipLibCheck): herald-client's .d.ts must be clean. */
const CONFIGS: Record<string, { compilerOptions: Record<string, unknown>; files: string[] }> = {
  "NodeNext (a Node project: lib ES2022 and @types/node, no DOM)": {
    compilerOptions: {
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      lib: ["es2022"],
      types: ["node"],
      strict: true,
      noEmit: true,
    },
    files: ["consumer.ts", "consumer.cts"],
  },
  "Node10 (an older CommonJS project: moduleResolution node10 reads `types` and `typesVersions`, not `exports`)":
    {
      compilerOptions: {
        module: "commonjs",
        moduleResolution: "node10",
        target: "es2022",
        lib: ["es2022"],
        types: ["node"],
        strict: true,
        noEmit: true,
      },
      files: ["consumer.ts"],
    },
  "ESNext + Bundler (a browser project: lib DOM)": {
    compilerOptions: {
      module: "esnext",
      moduleResolution: "bundler",
      target: "es2022",
      lib: ["es2022", "dom", "dom.iterable"],
      types: [],
      strict: true,
      noEmit: true,
    },
    files: ["consumer.ts"],
  },
};

describe("herald-client's types, from the tarball", () => {
  let packed: Packed | undefined;
  let dir: string;

  before(async () => {
    packed = await packTarballs("ts-consumer");
    const installed = await installInto(
      packed,
      "consumer",
      [packed.client, "rxjs@^7.8.0", "@types/node@^20.19.0"],
      {
        type: "module",
      },
    );
    console.log(`npm install: herald-client + rxjs + @types/node ${installed.ms} ms`);
    dir = installed.dir;
    for (const file of ["consumer.ts", "consumer.cts"])
      await copyFile(new URL(file, CONSUMERS), join(dir, file));
  });

  after(() => removeScratch(packed));

  for (const [name, config] of Object.entries(CONFIGS)) {
    test(`tsc --noEmit passes under ${name}`, async () => {
      const file = `tsconfig.${name.split(" ")[0]}.json`;
      await writeFile(join(dir, file), JSON.stringify(config, null, 2));
      const { stdout } = await run(process.execPath, [TSC, "-p", file], { cwd: dir, timeoutMs: 120_000 });
      assert.equal(stdout.trim(), "");
    });
  }
});
