import type { IncomingMessage, ServerResponse } from "node:http";

/** Request headers a cross-origin client may send (EventSource resumes with Last-Event-ID). */
const ALLOWED_HEADERS = "Content-Type, Authorization, Last-Event-ID, Cache-Control, X-Requested-With";

/**
 * CORS with an origin allowlist. `*` in the list allows any origin without credentials; an origin
 * listed by name is echoed back with `Access-Control-Allow-Credentials: true`. Origins not listed
 * get no CORS headers (the browser then refuses the response).
 */
export class Cors {
  private readonly origins: Set<string>;
  private readonly any: boolean;

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins.filter((o) => o !== "*").map((o) => o.replace(/\/$/, "")));
    this.any = origins.includes("*");
  }

  /** Sets CORS headers for the request's origin. Returns false when an Origin was sent and is not allowed. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    res.setHeader("Vary", "Origin");
    if (this.origins.has(origin)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Allow-Credentials", "true");
    } else if (this.any) {
      res.setHeader("Access-Control-Allow-Origin", "*");
    } else {
      return false;
    }
    res.setHeader(
      "Access-Control-Expose-Headers",
      "Retry-After, WWW-Authenticate, Last-Event-ID, Mercure-Last-Event-ID",
    );
    return true;
  }

  /** Answers a preflight (OPTIONS). */
  preflight(req: IncomingMessage, res: ServerResponse, methods: string): void {
    const allowed = this.apply(req, res);
    res.setHeader("Allow", methods);
    if (allowed && req.headers.origin !== undefined) {
      res.setHeader("Access-Control-Allow-Methods", methods);
      res.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      res.setHeader("Access-Control-Max-Age", "600");
    }
    res.writeHead(204).end();
  }
}
