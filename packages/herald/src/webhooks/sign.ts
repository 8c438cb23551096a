import { createHmac } from "node:crypto";

/** The header that carries the signature of a webhook call (docs/webhooks.md). */
export const SIGNATURE_HEADER = "Herald-Signature";

/**
 * `t=<unix seconds>,v1=<hex>`: HMAC-SHA256 with the secret over `<t>.<body>`. The timestamp is in
 * the signed text, so a receiver that refuses stale timestamps (5 minutes: docs/webhooks.md) also
 * refuses a replayed call.
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const hex = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${hex}`;
}
