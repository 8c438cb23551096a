import { Component, inject, type OnDestroy, type OnInit } from "@angular/core";
import type { Subscription } from "rxjs";
import { HeraldService } from "./herald.service.ts";

interface MessageData {
  message: string;
}

/**
 * The seed article's component, on the SDK instead of a bare EventSource: it survives restarts and
 * network drops without losing events. The seed's `/stream` topic is `broadcast`.
 */
@Component({
  selector: "app-root",
  standalone: true,
  template: `Message: {{ messageData?.message }}`,
})
export class AppComponent implements OnInit, OnDestroy {
  title = "sse-test";
  messageData: MessageData | undefined;
  private readonly herald = inject(HeraldService);
  private subscription: Subscription | undefined;

  ngOnInit(): void {
    this.subscription = this.herald.messages<MessageData>(["broadcast"]).subscribe({
      next: (message) => {
        this.messageData = message.data;
      },
      error: (error: Error) => console.error("Herald subscription failed:", error.message),
    });
  }

  ngOnDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
