import type { CloseReason, Sink } from "../../packages/herald/src/core/subscriber.ts";

/** A hub Sink that keeps everything written to it as text (never full). */
export class TextSink implements Sink {
  text = "";
  write(bytes: Uint8Array): boolean {
    this.text += new TextDecoder().decode(bytes);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(_reason: CloseReason): void {}
  /** The `id` of each event written, in order. */
  ids(): string[] {
    return [...this.text.matchAll(/^id: (.*)$/gm)].map((m) => m[1] as string);
  }
}
