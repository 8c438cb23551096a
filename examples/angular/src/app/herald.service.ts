import { Injectable, inject } from "@angular/core";
import type { HeraldMessage, SubscribeOptions } from "herald-client";
import { fromHerald } from "herald-client/rx";
import type { Observable } from "rxjs";
import { HERALD_URL } from "./herald-url";

/** What `messages` takes besides the topics: the SDK's options (callbacks, transport, delays). */
export type MessageOptions<T> = Omit<SubscribeOptions<T>, "url" | "topics">;

/**
 * An Angular service over the Herald SDK: one Observable per subscription (`fromHerald`), each
 * subscriber opening its own stream, closed when it unsubscribes. Reconnects, with Last-Event-ID
 * resume, happen inside; `onMissed` says when the hub could not resume (e.g. it restarted with its
 * in-memory history), `onStateChange` follows the connection.
 */
@Injectable({ providedIn: "root" })
export class HeraldService {
  private readonly url = inject(HERALD_URL);

  messages<T>(
    topics: string | readonly string[],
    options: MessageOptions<T> = {},
  ): Observable<HeraldMessage<T>> {
    return fromHerald<T>({ ...options, url: this.url, topics });
  }
}
