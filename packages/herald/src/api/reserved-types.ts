import { badRequest } from "../core/errors.ts";

/**
 * Event types only the hub sends: `mercure` (Mercure's subscription events, spec "Subscription
 * Events": a hub must refuse it on publish) and every `herald.` type (the stream's own events:
 * `herald.missed`, `herald.stream`, and any later one). A publisher that could send them would
 * forge hub events for clients that key on the type (the SDK acts on `herald.missed` and
 * `herald.stream`). Every publish route, on both APIs, calls this before anything is stored.
 */
export function refuseReservedType(type: string | undefined, field: "event" | "type"): void {
  if (type === undefined) return;
  if (type === "mercure" || type.startsWith("herald.")) {
    throw badRequest(
      `"${field}" must not be ${JSON.stringify(type)}: "mercure" and the types starting with "herald." are reserved for the events the hub sends itself; choose another type`,
    );
  }
}
