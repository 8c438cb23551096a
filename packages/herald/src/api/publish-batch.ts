import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthError, type Principal } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import type { Hub } from "../core/hub.ts";
import { sendJson } from "../http/errors.ts";
import { elementStarts, memberStart, skipSpace } from "../http/json-source.ts";
import { allowPublish, type PublishGate, type PublishOptions, readPublishRequest } from "./publish.ts";
import { parsePublishBody } from "./publish-body.ts";
import { publishScope } from "./publish-scope.ts";

/** Most events one `POST /publish/batch` may carry (the body limit, HERALD_MAX_BODY, applies too). */
export const MAX_BATCH_EVENTS = 10_000;

/**
 * `POST /publish/batch`: `{"events": [<publish body>, ...]}` -> 200
 * `{"results": [{"id", "queued"}, ...]}` in the same order. Each event has the shape of a
 * `POST /publish` body. All or nothing: one bad event answers 400 naming it (`events[3]: ...`) and
 * nothing is stored. The events are stored in one bus append, in the given order, and reach each
 * subscriber in one write. A retry (same publisher, id and content as a held event) is answered as the first time.
 * Same gate as `POST /publish` (authentication and rate limit before the body is read), and the
 * token's publish claim must match every topic of every event (403 naming the event otherwise).
 * The publish rate counts events: once the batch is valid, `chargeBatch` takes what it counts for
 * beyond the gate's one (429 with nothing stored when it is more than what is left).
 */
export async function handlePublishBatch(
  hub: Hub,
  options: PublishOptions,
  req: IncomingMessage,
  res: ServerResponse,
  gate: PublishGate,
  chargeBatch: (principal: Principal, events: number) => Promise<void>,
) {
  const { principal, body, text } = await readPublishRequest(req, options, gate);
  const events = (body as { events?: unknown } | null)?.events;
  if (typeof body !== "object" || body === null || Array.isArray(body) || !Array.isArray(events)) {
    throw badRequest('the body must be a JSON object {"events": [{"topic": "news", "data": "hello"}, ...]}');
  }
  const extra = Object.keys(body).filter((key) => key !== "events");
  if (extra.length > 0) throw badRequest(`unknown field "${extra[0]}"; the body has only "events"`);
  if (events.length === 0) throw badRequest('"events" is empty; send at least one event');
  if (events.length > MAX_BATCH_EVENTS) {
    throw new HeraldError(
      "payload_too_large",
      `"events" holds ${events.length} events; the limit is ${MAX_BATCH_EVENTS}: split the batch`,
    );
  }
  const scope = publishScope(principal);
  const starts = elementStarts(text, memberStart(text, skipSpace(text, 0), "events")); // where each event is in `text`
  const inputs: PublishInput[] = events.map((event, i) => {
    try {
      const input = parsePublishBody(event, { text, start: starts[i]! }, scope);
      hub.validate(input);
      allowPublish(principal, input.topics);
      return input;
    } catch (error) {
      // the event's index in front of the reason; a refused token keeps its WWW-Authenticate challenge
      if (error instanceof AuthError) throw error.prefixed(`events[${i}]: `);
      if (error instanceof HeraldError) throw new HeraldError(error.code, `events[${i}]: ${error.message}`);
      throw error;
    }
  });
  await chargeBatch(principal, inputs.length);
  const results = await hub.publish(inputs);
  sendJson(res, 200, { results: results.map(({ id, queued }) => ({ id, queued })) });
}
