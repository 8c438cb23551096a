import { Observable } from "rxjs";
import { subscribe } from "./index.ts";
import type { HeraldMessage, SubscribeOptions } from "./types.ts";

/**
 * An RxJS Observable of Herald events (`herald/client/rx`; rxjs 7 is an optional peer dependency).
 * Cold: each subscriber opens its own stream; unsubscribing closes it. The Observable completes when
 * `options.signal` aborts and errors on a fatal error (a 4xx answer); reconnects and herald.missed
 * stay inside (see `onMissed` / `onStateChange`, which are still called).
 */
export function fromHerald<T = unknown>(options: SubscribeOptions<T>): Observable<HeraldMessage<T>> {
  return new Observable<HeraldMessage<T>>((observer) => {
    const subscription = subscribe<T>({
      ...options,
      onEvent: (message) => {
        options.onEvent?.(message);
        observer.next(message);
      },
    });
    void subscription.closed.then((error) => {
      if (error !== undefined) observer.error(error);
      else observer.complete();
    });
    return () => subscription.close();
  });
}
