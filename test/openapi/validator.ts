import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

/** docs/openapi.json, the description users read (a test checks it is the one the server serves). */
export const DOCUMENT_FILE = new URL("../../docs/openapi.json", import.meta.url);

type Json = { [key: string]: unknown };

/** What a test got back: enough to check against the description. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The body as text (for a stream: what had arrived). */
  readonly body: string;
}

const DOC_ID = "https://herald.invalid/openapi.json";

/** `/a/b` -> `~1a~1b` (a JSON pointer segment). */
const pointer = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Checks real answers against the OpenAPI description with ajv (JSON Schema 2020-12, the dialect of
 * OpenAPI 3.1): the status must be listed for the operation, the Content-Type must be one it
 * lists, the body must match that media type's schema (JSON bodies parsed first), and every
 * header the answer lists as required must be there and match its schema. Each checked
 * (method, path, status) is recorded, so a test can ask which listed answers no test produced.
 */
export class ApiDescription {
  readonly doc: Json;
  readonly checked = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(doc: Json = JSON.parse(readFileSync(DOCUMENT_FILE, "utf8")) as Json) {
    this.doc = doc;
    addFormatsModule.default(this.ajv);
    // The description is added whole, its OpenAPI fields as keywords that check nothing: its
    // schemas are compiled where answers point to, and their `#/components/schemas/...` refs resolve.
    this.ajv.addVocabulary(Object.keys(doc));
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The operation of `method` on the described `path` (a template such as `/x/{topic}`). */
  operation(method: string, path: string): Json {
    const item = (this.doc.paths as Record<string, Json>)[path];
    assert.ok(item !== undefined, `the description has no path ${path}`);
    const operation = item[method.toLowerCase()] as Json | undefined;
    assert.ok(operation !== undefined, `the description has no ${method} ${path}`);
    return operation;
  }

  /** Checks `answer` as an answer of `method path` (the path as described, with `{params}`). */
  check(method: string, path: string, answer: Answer): void {
    const where = `${method} ${path} answered ${answer.status}`;
    const responses = this.operation(method, path).responses as Record<string, Json>;
    const response = responses[String(answer.status)];
    assert.ok(response !== undefined, `${where}, a status the description does not list: ${answer.body}`);
    const base = `#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${answer.status}`;
    this.checkResponse(where, base, response, answer);
    this.checked.add(`${method} ${path} ${answer.status}`);
  }

  /** Checks `answer` against `components.responses[name]` (answers on any path: 404, 405, ...). */
  checkShared(name: string, answer: Answer): void {
    const response = (this.doc.components as { responses: Record<string, Json> }).responses[name];
    assert.ok(response !== undefined, `the description has no components.responses.${name}`);
    this.checkResponse(
      `a ${name} answer (${answer.status})`,
      `#/components/responses/${name}`,
      response,
      answer,
    );
    this.checked.add(`shared ${name}`);
  }

  /** Checks a request body the tests send against the operation's request schema. */
  checkRequest(method: string, path: string, mediaType: string, body: unknown): void {
    const operation = this.operation(method, path);
    const content = (operation.requestBody as { content: Json }).content;
    assert.ok(mediaType in content, `${method} ${path} takes no ${mediaType} body`);
    const at = `#/paths/${pointer(path)}/${method.toLowerCase()}/requestBody/content/${pointer(mediaType)}/schema`;
    this.validate(`the ${method} ${path} request`, at, body);
  }

  /** Every (method, path, status) the description lists, as `check` records them. */
  listedAnswers(): string[] {
    const out: string[] = [];
    for (const [path, item] of Object.entries(this.doc.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const status of Object.keys((operation as { responses: Json }).responses)) {
          out.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    return out;
  }

  private checkResponse(where: string, base: string, response: Json, answer: Answer): void {
    const headers = (response.headers ?? {}) as Record<string, Json>;
    for (const [name, spec] of Object.entries(headers)) {
      const value = answer.headers.get(name);
      if (value === null) {
        assert.ok(spec.required !== true, `${where} without its required header ${name}`);
        continue;
      }
      this.validate(`${where}: header ${name}`, `${base}/headers/${pointer(name)}/schema`, value);
    }
    const content = response.content as Json | undefined;
    if (content === undefined) {
      assert.equal(answer.body, "", `${where} with a body, where the description lists none`);
      return;
    }
    const type = (answer.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    assert.ok(
      type in content,
      `${where} as ${type}; the description lists ${Object.keys(content).join(", ")}`,
    );
    const json = type === "application/json" || type.endsWith("+json");
    let body: unknown = answer.body;
    if (json) {
      assert.doesNotThrow(() => JSON.parse(answer.body), `${where} with a body that is not JSON`);
      body = JSON.parse(answer.body);
    }
    this.validate(`${where}: body`, `${base}/content/${pointer(type)}/schema`, body);
  }

  private validate(what: string, at: string, value: unknown): void {
    let validate = this.validators.get(at);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `${DOC_ID}${at}` });
      this.validators.set(at, validate);
    }
    if (!validate(value)) {
      assert.fail(
        `${what} does not match the description: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value)?.slice(0, 500)}`,
      );
    }
  }
}
