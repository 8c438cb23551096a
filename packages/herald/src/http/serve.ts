import type { IncomingMessage, ServerResponse } from "node:http";
import { HeraldError } from "../core/errors.ts";
import type { Cors } from "./cors.ts";
import { sendError, toHeraldError } from "./errors.ts";
import { inTurn } from "./in-turn.ts";
import {
  lacksHost,
  refuseMissingHost,
  refuseTransferCoding,
  unknownTransferCoding,
} from "./node-refusals.ts";
import { parseTarget, type Router } from "./router.ts";

export interface ServeOptions {
  /** Every route (routes.ts). */
  readonly router: Router;
  /** The CORS policy of a path (Mercure's paths may have their own). */
  readonly corsOf: (path: string) => Cors;
  /** Where a request that failed with an unexpected error is logged (pino's `Logger` fits). */
  readonly log: { error(fields: object, message: string): void };
}

/**
 * The server's request listener: requests of one connection one at a time, in order (a request
 * pipelined behind an event stream never: http/in-turn.ts); an HTTP/1.1 request without `Host`
 * refused, so is a body in a transfer coding other than `chunked` (http/node-refusals.ts); CORS (a preflight is answered here), then the route's handler.
 * A handler's error is answered with Herald's JSON error (status from `STATUS_OF`, `Allow` on
 * 405); an unexpected one is logged and answered 500 without its details. Handlers that answer
 * errors in their own format (Mercure, the seed) catch them first.
 */
export function serve(
  options: ServeOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined {
  const { router, corsOf, log } = options;
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    const herald = toHeraldError(error);
    if (herald.code === "internal") log.error({ err: error, url: req.url }, "request failed");
    const headers: Record<string, string> = {};
    if (herald.code === "method_not_allowed") {
      headers.Allow = router.allowed(parseTarget(req.url).pathname) ?? "";
    }
    sendError(res, herald, headers);
  };
  // not an async function: a handler that answered synchronously costs no promise, and one that
  // returns a promise costs one reaction (this is the publish hot path)
  return inTurn((req, res) => {
    try {
      if (lacksHost(req)) {
        refuseMissingHost(res);
        return undefined;
      }
      const codings = unknownTransferCoding(req);
      if (codings !== undefined) {
        refuseTransferCoding(res, codings);
        return undefined;
      }
      const url = parseTarget(req.url);
      const cors = corsOf(url.pathname);
      if (req.method === "OPTIONS") {
        const allowed = router.allowed(url.pathname);
        if (allowed === undefined) throw new HeraldError("not_found", `no route ${url.pathname}`);
        cors.preflight(req, res, allowed);
        return undefined;
      }
      cors.apply(req, res);
      const done = router.find(req.method ?? "GET", url.pathname)(req, res, url);
      if (done === undefined) return undefined;
      return done.then(undefined, (error: unknown) => fail(req, res, error));
    } catch (error) {
      fail(req, res, error);
      return undefined;
    }
  });
}
