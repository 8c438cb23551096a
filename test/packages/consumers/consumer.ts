// A TypeScript consumer of herald-client, type-checked (tsc --noEmit, library files included) in a
// scratch project that installed the tarball: under module/moduleResolution NodeNext (a Node
// project: lib ES2022 + @types/node, no DOM) and under ESNext + Bundler (a browser project, DOM).
import {
  type ConnectionState,
  HeraldClientError,
  type HeraldMessage,
  type MissedInfo,
  type PublishAnswer,
  publish,
  type SubscribeOptions,
  type Subscription,
  subscribe,
} from "herald-client";
import { fromHerald } from "herald-client/rx";
import { filter, map, type Observable } from "rxjs";

interface Price {
  symbol: string;
  price: number;
}

export async function follow(url: string, token: string): Promise<number[]> {
  const states: ConnectionState[] = [];
  const options: SubscribeOptions<Price> = {
    url,
    topics: ["prices"],
    onMissed: (info: MissedInfo) => console.warn(info.reason, info.resumeId),
    onStateChange: (change) => states.push(change.state),
  };
  const prices: Subscription<Price> = subscribe<Price>(options);
  const answer: PublishAnswer = await publish<Price>({
    url,
    token,
    topic: "prices",
    data: { symbol: "X", price: 1 },
  });
  const seen: number[] = [answer.queued];
  for await (const message of prices) {
    const typed: HeraldMessage<Price> = message;
    seen.push(typed.data.price);
    if (seen.length > 3) break;
  }
  const closedWith: Error | undefined = await prices.closed;
  if (closedWith instanceof HeraldClientError) seen.push(-1);
  return seen;
}

export function symbols(url: string): Observable<string> {
  return fromHerald<Price>({ url, topics: "prices" }).pipe(
    filter((message) => message.type === "message"),
    map((message) => message.data.symbol),
  );
}

// The types are real, not `any`: each of these lines must be an error.
// @ts-expect-error topics is required
subscribe({ url: "http://localhost:8080" });
// @ts-expect-error data is a Price, its price a number
export const wrong = (message: HeraldMessage<Price>): string => message.data.price;
