import type { IncomingMessage, ServerResponse } from "node:http";
import { HeraldError } from "../core/errors.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/**
 * Routes by exact path (or, failing that, by the longest registered prefix), then by method.
 * Unknown path: 404; known path, other method: 405 with Allow.
 */
export class Router {
  private readonly routes = new Map<string, Map<string, Handler>>();
  private readonly prefixes: { prefix: string; methods: Map<string, Handler> }[] = [];

  add(method: string, path: string, handler: Handler): this {
    let methods = this.routes.get(path);
    if (methods === undefined) {
      methods = new Map();
      this.routes.set(path, methods);
    }
    methods.set(method, handler);
    return this;
  }

  /** Routes every path that starts with `prefix` (e.g. `/api/items/`) to `handler`. */
  addPrefix(method: string, prefix: string, handler: Handler): this {
    let entry = this.prefixes.find((p) => p.prefix === prefix);
    if (entry === undefined) {
      entry = { prefix, methods: new Map() };
      this.prefixes.push(entry);
      this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    }
    entry.methods.set(method, handler);
    return this;
  }

  /** Methods served on `path` (with OPTIONS), or undefined when the path is unknown. */
  allowed(path: string): string | undefined {
    const methods = this.methodsOf(path);
    return methods === undefined ? undefined : [...methods.keys(), "OPTIONS"].join(", ");
  }

  private methodsOf(path: string): Map<string, Handler> | undefined {
    return this.routes.get(path) ?? this.prefixes.find((p) => path.startsWith(p.prefix))?.methods;
  }

  /** The handler for a request; throws `not_found` / `method_not_allowed` with the fix in the message. */
  find(method: string, path: string): Handler {
    const methods = this.methodsOf(path);
    if (methods === undefined) {
      throw new HeraldError(
        "not_found",
        `no route ${path}; Herald serves ${[...this.routes.keys()].join(", ")}`,
      );
    }
    const handler = methods.get(method === "HEAD" ? "GET" : method);
    if (handler === undefined) {
      throw new HeraldError(
        "method_not_allowed",
        `${method} is not allowed on ${path}; use ${[...methods.keys()].join(" or ")}`,
      );
    }
    return handler;
  }
}

/** Parsed targets without a query (`/publish`, `/broadcast`, ...): most requests reuse one. */
const plainTargets = new Map<string, URL>();
const PLAIN_TARGETS_MAX = 256;

/**
 * The URL of a request target. An origin-form target (`/path?query`) is taken as a path, so `//x`
 * is the path `//x`, not the host `x`; an absolute-form target must be a valid URL. Anything else
 * is a 400 saying so (never a 500).
 *
 * Contract: the URL may be shared between requests with the same target (a small cache of
 * query-less paths, the publish hot path), so handlers must not modify it.
 */
export function parseTarget(target: string | undefined): URL {
  const raw = target ?? "/";
  const cached = plainTargets.get(raw);
  if (cached !== undefined) return cached;
  let url: URL;
  try {
    url = raw.startsWith("/") ? new URL(`http://herald.local${raw}`) : new URL(raw);
  } catch {
    throw new HeraldError(
      "bad_request",
      "the request target is not a valid URL; send a path such as /events?topic=news",
    );
  }
  if (url.search === "" && url.hash === "" && raw.startsWith("/")) {
    if (plainTargets.size >= PLAIN_TARGETS_MAX) plainTargets.clear(); // a scan of unknown paths
    plainTargets.set(raw, url);
  }
  return url;
}
