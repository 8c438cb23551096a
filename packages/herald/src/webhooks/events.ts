/** The webhook events Herald can send (docs/webhooks.md; chosen with --webhook-events). */
export const WEBHOOK_EVENTS = [
  "subscriber.connected",
  "subscriber.disconnected",
  "topic.occupied",
  "topic.vacated",
] as const;

export type WebhookType = (typeof WEBHOOK_EVENTS)[number];
