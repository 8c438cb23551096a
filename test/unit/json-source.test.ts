import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compactValue,
  elementStarts,
  memberStart,
  skipSpace,
  valueEnd,
} from "../../packages/herald/src/http/json-source.ts";
import { prng } from "../helpers/prng.ts";

const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 20261203);

/** The compact source text of member `key` of the object `text` holds (undefined when absent). */
function member(text: string, key: string): string | undefined {
  JSON.parse(text); // the contract: text that parsed
  const start = memberStart(text, skipSpace(text, 0), key);
  return start === -1 ? undefined : compactValue(text, start);
}

const NUMBERS = [
  "0",
  "-0",
  "7",
  "1.50",
  "1.0",
  "-1.5e-7",
  "1E+2",
  "1e400",
  "-1e400",
  "1e-400",
  "12345678901234567891",
  "9007199254740993",
  "0.1000000000000000055511151231257827",
  "123456789012345678901234567890.000000000000000000001e-3",
];

describe("json-source: the source text of a JSON value", () => {
  it("keeps every number as written, wherever it stands", () => {
    for (const n of NUMBERS) {
      assert.equal(compactValue(n, 0), n);
      assert.equal(compactValue(` \t\r\n${n}\n `, 4), n);
      assert.equal(member(`{"data":${n}}`, "data"), n);
      assert.equal(member(`{ "data" : ${n} , "x":1}`, "data"), n);
      assert.equal(member(`{"data":[${n},${n} ,\n${n}]}`, "data"), `[${n},${n},${n}]`);
      assert.equal(member(`{"data":{"n":${n}}}`, "data"), `{"n":${n}}`);
    }
    assert.equal(member('{"data":true,"x":null}', "data"), "true");
    assert.equal(member('{"x":false, "data" :null }', "data"), "null");
  });

  it("removes the whitespace outside strings only, and keeps strings' escapes", () => {
    assert.equal(
      member('{"data": { "a b" : [ 1 , "x  y" ,\n\t{ } , [ ] ] , "c": "\\u00e9\\/\\"\\\\ }" }}', "data"),
      '{"a b":[1,"x  y",{},[]],"c":"\\u00e9\\/\\"\\\\ }"}',
    );
    assert.equal(member('{"data":"\\u2028\\ud800 \\n"}', "data"), '"\\u2028\\ud800 \\n"');
    assert.equal(compactValue("{}", 0), "{}");
    assert.equal(compactValue("[ ]", 0), "[]");
    // what is left is one SSE data line
    assert.doesNotMatch(member('{"data":{\r\n"a":\r\n"\\r\\n"\r\n}}', "data") as string, /[\r\n\0]/);
  });

  it("finds keys written with escapes, and keeps the last of duplicate keys (as JSON.parse)", () => {
    for (const key of ['"d\\u0061ta"', '"\\u0064\\u0061\\u0074\\u0061"', '"dat\\u0061"', '"\\u0044ata"']) {
      const text = `{"data":1,${key}:2}`;
      assert.equal(member(text, "data"), String(JSON.parse(text).data), key);
    }
    assert.equal(member('{"data":1,"data":2, "data" : [3]}', "data"), "[3]");
    assert.equal(member('{"data":1,"x":{"data":2}}', "data"), "1");
    assert.equal(member('{"x":{"data":2},"data":{"data":3}}', "data"), '{"data":3}');
    assert.equal(member('{"dat\\"a":1,"data\\\\":2,"da":3,"datas":4}', "data"), undefined);
    assert.equal(member('{"\\"data":1,"data\\"":2}', "data"), undefined);
    assert.equal(member("{}", "data"), undefined);
    assert.equal(memberStart("[1]", 0, "data"), -1);
    assert.equal(memberStart('"data"', 0, "data"), -1);
  });

  it("lists an array's elements", () => {
    const text = '[ {"data":1} ,[2,[3]],"4,]" , 5e1 ,{}]';
    assert.deepEqual(
      elementStarts(text, 0).map((start) => compactValue(text, start)),
      ['{"data":1}', "[2,[3]]", '"4,]"', "5e1", "{}"],
    );
    assert.deepEqual(elementStarts("[]", 0), []);
    assert.deepEqual(elementStarts("[ \n ]", 0), []);
    assert.deepEqual(elementStarts("{}", 0), []);
  });

  it("costs no stack on hostile nesting (JSON.parse itself takes 100,000 levels)", () => {
    const depth = 100_000;
    const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    JSON.parse(arrays);
    assert.equal(valueEnd(arrays, 0), arrays.length);
    assert.equal(compactValue(arrays, 0), arrays);
    const spaced = `${"[ ".repeat(depth)}${" ]".repeat(depth)}`;
    assert.equal(compactValue(spaced, 0), arrays);
    const objects = `{"data":${'{"a":'.repeat(depth)}1${"}".repeat(depth)},"z":2}`;
    JSON.parse(objects);
    assert.equal(member(objects, "z"), "2");
    assert.equal(member(objects, "data")?.length, objects.length - '{"data":,"z":2}'.length);
  });

  it("reads long strings of escapes (backslash runs, escaped quotes) to their true end", () => {
    for (const inner of [
      "\\\\".repeat(100_000),
      '\\"'.repeat(100_000),
      `${"\\\\".repeat(50_000)}\\"${"\\\\".repeat(50_000)}`,
      "\\u0022".repeat(50_000),
    ]) {
      const text = `{"data":"${inner}" , "x":"}"}`;
      JSON.parse(text);
      assert.equal(member(text, "data"), `"${inner}"`);
      assert.equal(member(text, "x"), '"}"');
    }
  });

  it("agrees with JSON.parse on random documents (HERALD_FUZZ_SEED replays a run)", () => {
    const { int, pick, next } = prng(SEED);
    const space = () =>
      next() < 0.6 ? "" : Array.from({ length: 1 + int(3) }, () => pick([" ", "\t", "\n", "\r"])).join("");
    const keys = ["data", '"d\\u0061ta"', "topic", "a", '"\\u0064ata"', ""].map((k) =>
      k.startsWith('"') ? k : JSON.stringify(k),
    );
    const strings = ['""', '"x y"', '"\\\\"', '"\\""', '"\\u00e9"', '"}],{["', '"é😀"', '"\\ud83d\\ude00"'];
    /** A random value: [text with random whitespace, the same without it]. */
    function value(depth: number): [string, string] {
      const kind = depth > 6 ? int(3) : int(5);
      if (kind === 0) {
        const n = pick(NUMBERS);
        return [n, n];
      }
      if (kind === 1) {
        const s = pick(strings);
        return [s, s];
      }
      if (kind === 2) {
        const l = pick(["true", "false", "null"]);
        return [l, l];
      }
      const items = Array.from({ length: int(4) }, () => {
        const [spaced, compact] = value(depth + 1);
        if (kind === 3) return [spaced, compact];
        const key = pick(keys);
        return [`${key}${space()}:${space()}${spaced}`, `${key}:${compact}`];
      });
      const [open, close] = kind === 3 ? ["[", "]"] : ["{", "}"];
      return [
        `${open}${space()}${items.map(([s]) => s).join(`${space()},${space()}`)}${space()}${close}`,
        `${open}${items.map(([, c]) => c).join(",")}${close}`,
      ];
    }
    for (let round = 0; round < 2000; round++) {
      const [spaced, compact] = value(0);
      const text = `${space()}${spaced}${space()}`;
      const parsed = JSON.parse(text);
      const start = skipSpace(text, 0);
      assert.equal(compactValue(text, start), compact, `seed ${SEED}, round ${round}: ${text}`);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        const at = memberStart(text, start, "data");
        if (!("data" in parsed)) assert.equal(at, -1, text);
        else assert.deepEqual(JSON.parse(compactValue(text, at)), parsed.data, text);
      }
      if (Array.isArray(parsed)) {
        const elements = elementStarts(text, start).map((s) => JSON.parse(compactValue(text, s)));
        assert.deepEqual(elements, parsed, text);
      }
    }
  });
});
