/**
 * Which Angular builds examples/angular on the running Node: the newest major whose Angular
 * packages accept that Node in their `engines`. One app source (examples/angular/src) builds with
 * each of them; only the manifests differ:
 * - examples/angular/package.json and package-lock.json pin the Angular that runs on the README's
 *   Node (Angular 21: Node 20.19+);
 * - examples/angular/angular-<major>/ holds the package.json and package-lock.json of a newer major
 *   (Angular 22: Node 22.22.3+ or 24.15+), to copy over them.
 * The `engines` are read from the committed lockfiles (npm records them there), so the choice needs
 * no registry and is the same in CI as here; the install then follows that lockfile.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";

/** The Angular packages: their `engines.node` decide which Node a major runs on. */
const ANGULAR_PACKAGE = /^node_modules\/@(angular|angular-devkit|schematics)\/[^/]+$/;

/** One Angular major the example can be built with. */
export interface AngularMajor {
  readonly major: number;
  /** The exact @angular/core version its lockfile pins. */
  readonly version: string;
  /** The folder holding its package.json and package-lock.json. */
  readonly dir: string;
  /** Each Angular package's `engines.node`, by package path in the lockfile. */
  readonly engines: ReadonlyMap<string, string>;
}

interface Lockfile {
  packages: Record<string, { version?: string; engines?: { node?: string } }>;
}

/** The majors examples/angular (`example`) has a lockfile for: its own, then every `angular-<major>/`. */
export async function angularMajors(example: string): Promise<AngularMajor[]> {
  const extra = (await readdir(example, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && /^angular-\d+$/.test(entry.name))
    .map((entry) => join(example, entry.name));
  return Promise.all([example, ...extra].map(readMajor));
}

async function readMajor(dir: string): Promise<AngularMajor> {
  const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as Lockfile;
  const version = lock.packages["node_modules/@angular/core"]?.version;
  if (version === undefined) throw new Error(`${dir}/package-lock.json pins no @angular/core`);
  const engines = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (ANGULAR_PACKAGE.test(path) && entry.engines?.node !== undefined)
      engines.set(path, entry.engines.node);
  }
  return { major: semver.major(version), version, dir, engines };
}

/** The Angular packages of `major` whose `engines.node` refuses `node` (empty: it runs there). */
export function refusals(major: AngularMajor, node: string): string[] {
  return [...major.engines]
    .filter(([, range]) => !semver.satisfies(node, range))
    .map(([path, range]) => `${path.slice("node_modules/".length)} needs Node ${range}`);
}

/**
 * The newest of `majors` that runs on `node` (a version such as process.version); throws, saying
 * what each major needs, when none does.
 */
export function newestAngularFor(majors: readonly AngularMajor[], node: string): AngularMajor {
  const newestFirst = [...majors].sort((a, b) => b.major - a.major);
  const chosen = newestFirst.find((major) => refusals(major, node).length === 0);
  if (chosen !== undefined) return chosen;
  const needs = newestFirst.map((major) => `Angular ${major.major}: ${refusals(major, node)[0]}`);
  throw new Error(`no Angular of examples/angular runs on Node ${node} (${needs.join("; ")})`);
}
