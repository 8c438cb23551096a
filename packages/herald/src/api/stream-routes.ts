import type { IncomingMessage, ServerResponse } from "node:http";
import { type Access, bearerToken } from "../access/request-access.ts";
import type { HeraldConfig } from "../config/settings.ts";
import { AuthError, type Authorizer, missingToken } from "../core/auth.ts";
import { refuseControlTopic } from "../core/control.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../core/event.ts";
import { parseJson, readBody, requireJson } from "../http/body.ts";
import { sendJson } from "../http/errors.ts";
import type { Handler } from "../http/router.ts";
import { digest } from "./control-records.ts";
import type { CredentialGate } from "./events.ts";
import type { ControlAnswer, StreamControl } from "./stream-control.ts";

/** A route handler that answers once its work is done (for `InFlight.track`). */
export type AsyncHandler = (...args: Parameters<Handler>) => Promise<void>;

/** The settings the stream-control routes read. */
export type StreamRouteOptions = Pick<HeraldConfig, "maxTopics" | "maxTopicLength" | "maxBodyBytes">;

/** Where the stream-control routes are mounted (`POST /streams/{id}/topics`, `POST /streams/{id}/token`). */
export const STREAMS_PREFIX = "/streams/";

/**
 * The credential of `GET /events`: `?ticket=` (redeemed once, cluster-wide; never with a token
 * beside it), else the request's token (header, then cookie) or anonymous (`Access.subscriber`).
 */
export function streamCredential(access: Access, control: StreamControl): CredentialGate {
  return async (req, url) => {
    const ticket = url.searchParams.get("ticket");
    if (ticket !== null) {
      if (req.headers.authorization !== undefined) {
        throw badRequest("send either ?ticket= or an Authorization header, not both");
      }
      if (ticket === "")
        throw missingToken("?ticket= is empty: ask your server for a ticket (POST /tickets)");
      if (req.method === "HEAD") return control.peek(ticket); // opens no stream: the ticket stays unused
      await access.chargeControl(req); // a redeem appends a record, even for a forged ticket: per client IP
      return control.redeem(ticket);
    }
    const { principal, token } = await access.subscriberWithToken(req);
    return { principal, auth: token === undefined ? undefined : digest(token) };
  };
}

/** `POST /streams/{id}/topics` and `POST /streams/{id}/token` (docs/streams.md). */
export function streamsRoute(
  access: Access,
  authorizer: Authorizer,
  control: StreamControl,
  options: StreamRouteOptions,
): AsyncHandler {
  return async (req, res, url) => {
    const [id, action, ...rest] = url.pathname.slice(STREAMS_PREFIX.length).split("/");
    if (id === undefined || id === "" || rest.length > 0 || (action !== "topics" && action !== "token")) {
      throw new HeraldError(
        "not_found",
        `no route ${url.pathname}; use POST /streams/{id}/topics or POST /streams/{id}/token`,
      );
    }
    if (action === "topics") {
      const { principal, token } = await access.subscriberWithToken(req); // 401 for a bad token, or none where one is needed
      await access.chargeControl(req, principal);
      const { add, remove } = parseChange(await jsonBody(req, options, true), options);
      answer(
        res,
        await control.changeTopics(id, token === undefined ? undefined : digest(token), add, remove),
      );
      return;
    }
    const token = bearerToken(req);
    if (token === undefined) {
      throw missingToken('renewing a stream needs its new token: send "Authorization: Bearer <token>"');
    }
    const principal = await authorizer.authenticate(token);
    await access.chargeControl(req, principal);
    const body = await jsonBody(req, options, false);
    if (typeof body !== "object" || body === null || Array.isArray(body) || Object.keys(body).length > 0) {
      throw badRequest(
        "the body must be empty or {}: the new token goes in the Authorization header, and nothing else is read",
      );
    }
    answer(res, await control.renewToken(id, token, principal));
  };
}

/** `POST /tickets` with the app's subscriber token: `{"ticket", "expiresIn"}` (docs/streams.md). */
export function ticketsRoute(access: Access, authorizer: Authorizer, control: StreamControl): AsyncHandler {
  return async (req, res) => {
    const token = bearerToken(req);
    if (token === undefined) {
      throw missingToken('a ticket stands for a token: send it as "Authorization: Bearer <token>"');
    }
    const principal = await authorizer.authenticate(token);
    await access.chargeControl(req, principal);
    req.resume(); // no body is read
    sendJson(res, 200, await control.issueTicket(token, principal));
  };
}

/** A JSON body; an empty one counts as `{}` where the route needs none. */
async function jsonBody(
  req: IncomingMessage,
  options: StreamRouteOptions,
  required: boolean,
): Promise<unknown> {
  const bytes = await readBody(req, options.maxBodyBytes);
  if (bytes.length === 0 && !required) return {};
  requireJson(req);
  return parseJson(bytes);
}

/** `{"add": [...], "remove": [...]}`: lists of topics, each checked as on `GET /events`. */
function parseChange(
  body: unknown,
  options: StreamRouteOptions,
): { add: readonly string[]; remove: readonly string[] } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object: {"add": ["<topic>"], "remove": ["<topic>"]}');
  }
  const { add, remove, ...other } = body as Record<string, unknown>;
  const unknown = Object.keys(other);
  if (unknown.length > 0)
    throw badRequest(`unknown field ${JSON.stringify(unknown[0])}; use "add" and "remove"`);
  const topics = { ...DEFAULT_PUBLISH_LIMITS, maxTopicLength: options.maxTopicLength };
  const list = (value: unknown, name: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw badRequest(`"${name}" must be a list of topics, e.g. ["news"]`);
    if (value.length > options.maxTopics) {
      throw badRequest(
        `"${name}" may name at most ${options.maxTopics} topics (HERALD_MAX_TOPICS); got ${value.length}`,
      );
    }
    return [...new Set(value.map((topic, i) => validateTopic(topic, topics, `${name}[${i}]`)))];
  };
  const change = { add: list(add, "add"), remove: list(remove, "remove") };
  if (change.add.length === 0 && change.remove.length === 0) {
    throw badRequest('nothing to change: send {"add": ["<topic>"]} and/or {"remove": ["<topic>"]}');
  }
  const both = change.add.find((topic) => change.remove.includes(topic));
  if (both !== undefined) {
    throw badRequest(`topic ${JSON.stringify(both)} is in both "add" and "remove": name it in one of them`);
  }
  refuseControlTopic(change.add);
  return change;
}

/** Sends the holder's answer: 200 with its body, or the error it names (with `WWW-Authenticate` for 401/403). */
function answer(res: ServerResponse, answer: ControlAnswer): void {
  if (answer.status === 200) {
    sendJson(res, 200, answer.body);
    return;
  }
  const message = String(answer.body.message);
  if (answer.status === 401) throw new AuthError("unauthorized", "invalid_token", message);
  if (answer.status === 403) throw new AuthError("forbidden", "insufficient_scope", message);
  if (answer.status === 400) throw badRequest(message);
  throw new HeraldError("not_found", message);
}
