import { Injectable } from "@angular/core";
import type { HeraldMessage, SubscribeOptions } from "herald/client";
import { fromHerald } from "herald/client/rx";
import type { Observable } from "rxjs";

/**
 * An Angular service over the Herald SDK: one Observable per subscription, closed when the last
 * subscriber unsubscribes (Angular's `async` pipe does that when the component goes away).
 * Reconnects with Last-Event-ID resume happen inside; `onMissed` tells when the hub could not resume.
 */
@Injectable({ providedIn: "root" })
export class HeraldService {
  /** Herald's base URL; the page's own origin when Herald serves the app. */
  url = globalThis.location?.origin ?? "http://localhost:8080";

  messages<T>(topics: string[], options: Partial<SubscribeOptions<T>> = {}): Observable<HeraldMessage<T>> {
    return fromHerald<T>({ ...options, url: this.url, topics });
  }
}
