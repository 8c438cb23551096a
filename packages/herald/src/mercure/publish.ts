import { isUtf8 } from "node:buffer";
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { refuseReservedTopics } from "../api/reserved-topics.ts";
import { refuseReservedType } from "../api/reserved-types.ts";
import { AuthError } from "../core/auth.ts";
import { charactersOver } from "../core/characters.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, type PublishInput } from "../core/event.ts";
import { anySelectorMatches, type TopicSelector } from "../core/topic.ts";
import { mediaType, readBody } from "../http/body.ts";
import type { MercureContext } from "./context.ts";
import { sendText } from "./http.ts";
import { FORBIDDEN_CHARACTERS } from "./v1/details.ts";

const FORM = "application/x-www-form-urlencoded";

/**
 * Mercure publish: `POST /.well-known/mercure`, form-encoded `topic` (repeatable: the first is the
 * canonical topic, the others alternates), `data`, `private` (present = private, whatever its
 * value), `id`, `type`, `retry`. Answers 200 `text/plain` with the update's id (`urn:uuid:<v4>`
 * when the publisher gave none). The update goes through Herald's hub: Herald subscribers of any of
 * its topics receive it too, and it is held in the same history.
 *
 * A reused id (spec, "Reconciliation"): the update is stored and dispatched like any other,
 * whoever used the id before, even when it is the same update again (each Mercure publish has a
 * scope of its own, so Herald's safe-retry rule of its own API never applies). A `Last-Event-ID`
 * carried by several held updates resolves to the earliest of them the subscriber may read, on
 * any topic (`Bus.replay`).
 *
 * Token: a 1.0 access token (its `publish` authorization details) or, in compatibility mode, a
 * 0.x one (`mercure.publish`). Refusals: 401 no/bad token; 403 `insufficient_scope`, a topic the
 * token may not publish to (every topic of the update must be allowed); 400 a malformed field,
 * a topic `*`, a `type` `mercure`, an `id` `earliest` or starting with `#`, a control or format
 * character in `id` or `type`, a topic in the hub's reserved `/.well-known/mercure` namespace (403
 * with a 0.x token, as before); 415 another Content-Type; 413 data over HERALD_MAX_EVENT_SIZE,
 * more topic fields than HERALD_MAX_TOPICS, a topic, id or type over its length limit; 429
 * over the publish rate (HERALD_PUBLISH_RATE, per token).
 */
export async function handleMercurePublish(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const claims = await ctx.auth.publisher(req, url, ctx.auth.identity(req));
  const modern = claims.grants !== undefined;
  const pending = ctx.limits.takePublish(claims.id);
  if (pending !== undefined) await pending;
  const type = mediaType(req);
  if (type !== FORM) {
    throw new HeraldError(
      "unsupported_media_type",
      `Content-Type ${type === "" ? "is missing" : `"${type}" is not accepted`}; a Mercure update is sent as ${FORM}`,
    );
  }
  const form = new URLSearchParams(formText(await readBody(req, ctx.options.maxBodyBytes)));
  const input = parseMercureForm(form, modern);
  refuseOverLimits(input, ctx.options);
  authorizeTopics(claims.publish, input.topics, modern);
  const [result] = await ctx.hub.publish([{ ...input, scope: ownScope() }]);
  sendText(res, 200, result!.id);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
/** A run of percent escapes: the bytes of one or more characters. */
const ESCAPES = /(?:%[0-9a-fA-F]{2})+/g;

/**
 * The form's text, refused (400) when its bytes, or the bytes its percent escapes stand for, are
 * not UTF-8: the spec wants every field UTF-8, and URLSearchParams would put U+FFFD in silence.
 */
function formText(body: Buffer): string {
  const notUtf8 = () =>
    badRequest(
      "the form is not valid UTF-8 (its bytes, or a percent escape such as %ED%A0%80 or %FF): encode every field as UTF-8",
    );
  if (!isUtf8(body)) throw notUtf8();
  const text = body.toString("utf8");
  for (const [run] of text.matchAll(ESCAPES)) {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(run.slice(3 * i + 1, 3 * i + 3), 16);
    try {
      strictUtf8.decode(bytes);
    } catch {
      throw notUtf8();
    }
  }
  return text;
}

/** A scope no other publish has: Mercure updates are never taken for retries (see above). */
function ownScope(): string {
  return `mercure:${randomBytes(12).toString("base64url")}`;
}

/**
 * The update of a Mercure publish form. Checks the Mercure rules (`modern`: a 1.0 token, whose
 * reserved-topic refusal is a 400); `validatePublish` checks the rest.
 */
export function parseMercureForm(form: URLSearchParams, modern = true): PublishInput {
  const topics = form.getAll("topic");
  if (topics.length === 0) {
    throw badRequest('missing "topic": send at least one topic field (the first is the canonical topic)');
  }
  for (const topic of topics) {
    if (topic === "*") {
      throw badRequest('topic "*" is reserved: it is the matcher of every topic, so no update may have it');
    }
    if (FORBIDDEN_CHARACTERS.test(topic)) {
      throw badRequest(`topic ${JSON.stringify(topic)} contains a control or format character`);
    }
  }
  refuseReservedTopics(topics, modern ? 400 : 403);
  const id = nonEmpty(form.get("id"));
  if (id?.startsWith("#")) {
    throw badRequest('"id" must not start with "#": such ids are reserved for the hub; choose another');
  }
  const type = nonEmpty(form.get("type"));
  refuseReservedType(type, "type");
  for (const [name, value] of [
    ["id", id],
    ["type", type],
  ] as const) {
    if (value !== undefined && FORBIDDEN_CHARACTERS.test(value)) {
      throw badRequest(`"${name}" must not contain control or format characters`);
    }
  }
  const retryText = nonEmpty(form.get("retry"));
  let retry: number | undefined;
  if (retryText !== undefined) {
    // the spec asks for ASCII digits only; leading zeros are digits too (a fixed-width writer's)
    if (!/^[0-9]+$/.test(retryText)) {
      throw badRequest('"retry" must be made of ASCII digits only (milliseconds), such as 3000');
    }
    retry = Number(retryText);
    if (!Number.isSafeInteger(retry)) {
      throw badRequest(
        `"retry" is too large: at most ${Number.MAX_SAFE_INTEGER} milliseconds (2^53 - 1); a reconnection delay is usually a few seconds, such as 3000`,
      );
    }
  }
  return {
    topics,
    data: form.get("data") ?? "",
    private: form.has("private"),
    id: id ?? `urn:uuid:${randomUUID()}`,
    type,
    retry,
  };
}

/**
 * Spec "Publication": requests over the hub's maximums on the number of topic fields and the
 * length of fields "MUST be rejected with a 413" (Herald's own API answers 400 for the same
 * limits, core/event.ts). The body's size is checked while it is read (413 too).
 */
function refuseOverLimits(input: PublishInput, options: MercureContext["options"]): void {
  const tooLarge = (why: string) => new HeraldError("payload_too_large", why);
  if (input.topics.length > options.maxTopics) {
    throw tooLarge(
      `an update may have at most ${options.maxTopics} topic fields, got ${input.topics.length} (the limit is HERALD_MAX_TOPICS)`,
    );
  }
  for (const topic of input.topics) {
    const long = charactersOver(topic, options.maxTopicLength);
    if (long !== undefined) {
      throw tooLarge(
        `a topic is ${long} characters long; the limit is ${options.maxTopicLength} (HERALD_MAX_TOPIC_LENGTH)`,
      );
    }
  }
  for (const [name, value] of [
    ["id", input.id],
    ["type", input.type],
  ] as const) {
    const long = value === undefined ? undefined : charactersOver(value, DEFAULT_PUBLISH_LIMITS.maxIdLength);
    if (long !== undefined) {
      throw tooLarge(
        `"${name}" is ${long} characters long; the limit is ${DEFAULT_PUBLISH_LIMITS.maxIdLength}`,
      );
    }
  }
}

/** Mercure: the publisher must be allowed EVERY topic of the update (else nothing is published). */
function authorizeTopics(
  allowed: readonly TopicSelector[],
  topics: readonly string[],
  modern: boolean,
): void {
  const refused = topics.filter((topic) => !anySelectorMatches(allowed, [topic]));
  if (refused.length === 0) return;
  const claim = modern
    ? 'a Mercure authorization detail with the "publish" action'
    : 'the "mercure.publish" claim';
  throw new AuthError(
    "forbidden",
    "insufficient_scope",
    allowed.length === 0
      ? `this token may not publish: it has no ${modern ? 'Mercure authorization detail with the "publish" action' : '"mercure.publish" claim'}`
      : `this token may not publish to ${refused
          .slice(0, 5)
          .map((t) => JSON.stringify(t))
          .join(", ")}; ${claim} must have a matcher for every topic of the update`,
  );
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === "" ? undefined : value;
}
