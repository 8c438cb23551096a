import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type LeanHead, readLeanHead } from "../../packages/herald/src/http/lean-head.ts";

const lines = new Map([
  ["POST /publish HTTP/1.1", { method: "POST", target: "/publish" }],
  ["POST /publish/batch HTTP/1.1", { method: "POST", target: "/publish/batch" }],
]);
const read = (text: string) => readLeanHead(Buffer.from(text, "latin1"), lines);
const head = (text: string) => {
  const outcome = read(text);
  assert.equal(typeof outcome, "object", `a lean head: ${JSON.stringify(text)} gave ${String(outcome)}`);
  return outcome as LeanHead;
};

// readLeanHead matches request lines and common header names byte by byte and gives the last
// request's string again for a repeated Host/Content-Type/Content-Length value: each request must
// still get exactly its own names and values.
describe("lean head", () => {
  it("reads the request line byte by byte: only an accepted line, exactly", () => {
    assert.equal(
      head("POST /publish/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").target,
      "/publish/batch",
    );
    assert.equal(head("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").target, "/publish");
    for (const line of [
      "POST /publisH HTTP/1.1",
      "post /publish HTTP/1.1",
      "POST /publish HTTP/1.0",
      "POST /publishx HTTP/1.1",
    ]) {
      assert.equal(read(`${line}\r\nHost: x\r\nContent-Length: 0\r\n\r\n`), "node", line);
    }
  });

  it("lowercases header names in any case, and tells a near name from a known one", () => {
    const h = head(
      "POST /publish HTTP/1.1\r\nHOST: a\r\ncontent-TYPE: application/json\r\nContent-Length: 2\r\nContent-Typf: y\r\nX-Host: z\r\nOrigin: o\r\n\r\n{}",
    );
    assert.deepEqual(h.headers, {
      host: "a",
      "content-type": "application/json",
      "content-length": "2",
      "content-typf": "y",
      "x-host": "z",
      origin: "o",
    });
    assert.equal(h.bodyLength, 2);
    // the same name twice, in two cases: node:http decides
    assert.equal(read("POST /publish HTTP/1.1\r\nHost: a\r\nhost: b\r\nContent-Length: 0\r\n\r\n"), "node");
  });

  it("gives each request its own values when they change from one request to the next", () => {
    const values = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.2:8081", "127.0.0.2:8081", "x"];
    for (const [i, host] of values.entries()) {
      const type = i % 2 === 0 ? "application/json" : "application/jsoN";
      const h = head(
        `POST /publish HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${type}\r\nContent-Length: ${10 + i}\r\n\r\n`,
      );
      assert.equal(h.headers.host, host);
      assert.equal(h.headers["content-type"], type);
      assert.equal(h.headers["content-length"], String(10 + i));
      assert.equal(h.bodyLength, 10 + i);
    }
    // a value with a non-ASCII byte is read as latin1, as before
    assert.equal(
      head("POST /publish HTTP/1.1\r\nHost: h\xe9\r\nContent-Length: 0\r\n\r\n").headers.host,
      "h\xe9",
    );
  });
});
