/**
 * Which Angular major test/packages/angular.test.ts builds examples/angular with, on which Node:
 * the newest whose Angular packages accept that Node in the `engines` of the committed lockfiles
 * (Angular 21 on Node 20.19+, Angular 22 on Node 22.22.3+ and 24.15+).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { angularMajors, newestAngularFor, refusals } from "../helpers/angular.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/angular/", import.meta.url));

describe("the Angular major examples/angular is built with", () => {
  test("the example has a lockfile for Angular 21 (its own) and for Angular 22 (angular-22/)", async () => {
    const majors = await angularMajors(EXAMPLE);
    assert.deepEqual(majors.map((m) => m.major).sort(), [21, 22]);
    for (const major of majors) assert.ok(major.engines.has("node_modules/@angular/core"), major.dir);
  });

  test("the newest major whose engines accept the Node", async () => {
    const majors = await angularMajors(EXAMPLE);
    const chosen = (node: string) => newestAngularFor(majors, node).major;
    assert.equal(chosen("v20.19.0"), 21);
    assert.equal(chosen("v20.20.2"), 21);
    assert.equal(chosen("v22.12.0"), 21);
    assert.equal(chosen("v22.22.3"), 22);
    assert.equal(chosen("v24.14.0"), 21);
    assert.equal(chosen("v24.21.0"), 22);
    assert.equal(chosen("v26.0.0"), 22);
  });

  test("on a Node no major accepts, the error says what each major needs", async () => {
    const majors = await angularMajors(EXAMPLE);
    assert.throws(
      () => newestAngularFor(majors, "v18.20.0"),
      /no Angular of examples\/angular runs on Node v18\.20\.0 \(Angular 22: @angular\S+ needs Node \^22\.22\.3 .+; Angular 21: @angular\S+ needs Node \^20\.19\.0 /,
    );
    const angular21 = majors.find((m) => m.major === 21);
    assert.ok(angular21);
    assert.deepEqual(refusals(angular21, "v20.20.2"), []);
  });
});
