import { ChangeDetectorRef, Component, inject, type OnDestroy, type OnInit } from "@angular/core";
import type { ConnectionState, HeraldMessage, MissedInfo } from "herald-client";
import type { Subscription } from "rxjs";
import { HeraldService } from "./herald.service";

interface MessageData {
  message: string;
}

/**
 * The seed article's component (`Message: {{ messageData?.message }}`), on the SDK instead of a bare
 * EventSource: it survives Herald restarts and network drops. It reads the seed's `broadcast` topic
 * (`POST /broadcast` publishes to it). Below the seed's line it lists every message received, in
 * order, the connection state, and each time the hub said events may have been missed.
 */
@Component({
  selector: "app-root",
  template: `
    <p id="message">Message: {{ messageData?.message }}</p>
    <p>Connection: <span id="state">{{ state }}</span></p>
    <ol id="received">
      @for (message of received; track message.id) {
        <li>{{ message.data.message }}</li>
      }
    </ol>
    @for (info of missed; track $index) {
      <p class="missed">Herald could not resume after {{ info.lastEventId }} ({{ info.reason }}): events may have been missed.</p>
    }
    @if (error) {
      <p id="error">Herald subscription failed: {{ error }}</p>
    }
  `,
})
export class AppComponent implements OnInit, OnDestroy {
  title = "sse-test";
  messageData: MessageData | undefined;
  readonly received: HeraldMessage<MessageData>[] = [];
  readonly missed: MissedInfo[] = [];
  state: ConnectionState = "connecting";
  error: string | undefined;
  private readonly herald = inject(HeraldService);
  // Zoneless: Herald's callbacks run outside Angular, so each one asks for a view update.
  private readonly view = inject(ChangeDetectorRef);
  private subscription: Subscription | undefined;

  ngOnInit(): void {
    this.subscription = this.herald
      .messages<MessageData>("broadcast", {
        onStateChange: ({ state }) => this.update(() => (this.state = state)),
        onMissed: (info) => this.update(() => this.missed.push(info)),
      })
      .subscribe({
        next: (message) =>
          this.update(() => {
            this.messageData = message.data;
            this.received.push(message);
          }),
        error: (error: Error) => this.update(() => (this.error = error.message)),
      });
  }

  ngOnDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private update(change: () => unknown): void {
    change();
    this.view.markForCheck();
  }
}
