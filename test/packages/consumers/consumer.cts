// A CommonJS TypeScript consumer (.cts: compiled to require()) of herald-client, an ES module
// package: NodeNext models Node 20.19+/22.12+, where require() loads ES modules.
import { subscribe } from "herald-client";

export function watch(url: string): void {
  const subscription = subscribe<{ message: string }>({ url, topics: ["broadcast"] });
  subscription.close();
}
