import { InjectionToken } from "@angular/core";

/**
 * Herald's base URL (the SDK adds `events`). By default, in this order:
 * - the page's `herald` query parameter (`http://localhost:4200/?herald=http://localhost:8080`);
 * - `globalThis.HERALD_URL`, if a script in index.html sets it;
 * - the page's own origin (Herald, or a proxy in front of it, serves the app).
 * Herald must allow the page's origin when it is another one: `herald --cors-origins http://localhost:4200`.
 */
export const HERALD_URL = new InjectionToken<string>("HERALD_URL", {
  providedIn: "root",
  factory: () => {
    const fromQuery = new URLSearchParams(globalThis.location?.search ?? "").get("herald");
    const fromGlobal = (globalThis as { HERALD_URL?: string }).HERALD_URL;
    return fromQuery ?? fromGlobal ?? globalThis.location?.origin ?? "http://localhost:8080";
  },
});
