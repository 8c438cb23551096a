import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { publishScope } from "../api/publish-scope.ts";
import { refuseReservedTopics } from "../api/reserved-topics.ts";
import { AuthError } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { anySelectorMatches, type TopicSelector } from "../core/topic.ts";
import { mediaType, readBody } from "../http/body.ts";
import type { MercureContext } from "./context.ts";
import { sendText } from "./http.ts";

const FORM = "application/x-www-form-urlencoded";

/**
 * Mercure publish: `POST /.well-known/mercure`, form-encoded `topic` (repeatable: the first is the
 * canonical topic, the others alternates), `data`, `private` (present = private, whatever its
 * value), `id`, `type`, `retry`. Answers 200 `text/plain` with the update's id (`urn:uuid:<v4>`
 * when the publisher gave none). The update goes through Herald's hub: Herald subscribers of any of
 * its topics receive it too, and it is held in the same history.
 *
 * A reused id (spec, "Reconciliation"): the update is stored and dispatched like any other, whoever
 * used the id before; only the same publisher (`publishScope`) sending the same update again is a
 * retry, answered with the id and not dispatched twice. A `Last-Event-ID` carried by several held
 * updates resolves to the earliest of them the subscriber may receive (`Bus.replay`).
 *
 * Refusals: 401 no/bad token; 403 a topic outside `mercure.publish`, or in the hub's reserved
 * `/.well-known/mercure` namespace; 400 a malformed field; 415 another Content-Type; 413 data over
 * HERALD_MAX_EVENT_SIZE; 429 over the publish rate (HERALD_PUBLISH_RATE, per token).
 */
export async function handleMercurePublish(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const claims = await ctx.auth.publisher(req, url);
  const pending = ctx.limits.takePublish(claims.id);
  if (pending !== undefined) await pending;
  const type = mediaType(req);
  if (type !== FORM) {
    throw new HeraldError(
      "unsupported_media_type",
      `Content-Type ${type === "" ? "is missing" : `"${type}" is not accepted`}; a Mercure update is sent as ${FORM}`,
    );
  }
  const form = new URLSearchParams((await readBody(req, ctx.options.maxBodyBytes)).toString("utf8"));
  const input = parseMercureForm(form);
  authorizeTopics(claims.publish, input.topics);
  const [result] = await ctx.hub.publish([{ ...input, scope: publishScope(claims) }]);
  sendText(res, 200, result!.id);
}

/** The update of a Mercure publish form. Checks the Mercure rules; `validatePublish` checks the rest. */
export function parseMercureForm(form: URLSearchParams): PublishInput {
  const topics = form.getAll("topic");
  if (topics.length === 0 || topics.every((t) => t === "")) {
    throw badRequest('missing "topic": send at least one topic field (the first is the canonical topic)');
  }
  refuseReservedTopics(topics);
  const id = nonEmpty(form.get("id"));
  if (id?.startsWith("#")) {
    throw badRequest('"id" must not start with "#": such ids are reserved for the hub; choose another');
  }
  const retryText = nonEmpty(form.get("retry"));
  let retry: number | undefined;
  if (retryText !== undefined) {
    if (!/^\d{1,15}$/.test(retryText)) {
      throw badRequest('"retry" must be a whole number of milliseconds, such as 3000');
    }
    retry = Number(retryText);
  }
  return {
    topics,
    data: form.get("data") ?? "",
    private: form.has("private"),
    id: id ?? `urn:uuid:${randomUUID()}`,
    type: nonEmpty(form.get("type")),
    retry,
  };
}

/** Mercure: the publisher must be allowed EVERY topic of the update (else nothing is published). */
function authorizeTopics(allowed: readonly TopicSelector[], topics: readonly string[]): void {
  const refused = topics.filter((topic) => !anySelectorMatches(allowed, [topic]));
  if (refused.length === 0) return;
  throw new AuthError(
    "forbidden",
    "insufficient_scope",
    allowed.length === 0
      ? 'this token may not publish: its "mercure.publish" claim is missing or empty'
      : `this token may not publish to ${refused
          .slice(0, 5)
          .map((t) => JSON.stringify(t))
          .join(", ")}; its "mercure.publish" claim must have a selector matching every topic of the update`,
  );
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === "" ? undefined : value;
}
