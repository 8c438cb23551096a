import type { IncomingMessage, ServerResponse } from "node:http";
import type { Bus } from "../core/bus.ts";
import { sendJson } from "../http/errors.ts";
import type { Handler } from "../http/router.ts";

/** `GET /healthz`: 200 while the process answers (liveness). */
export function handleHealth(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: "ok" });
}

/**
 * `GET /readyz`: 200 `{"ready": true}` while this node may take traffic; 503 with the reason once it
 * stops (`stopping`) or while its bus is not ready (a load balancer then sends clients elsewhere).
 */
export function readinessRoute(
  bus: Pick<Bus, "status">,
  stopping: { readonly isStopping: boolean },
): Handler {
  return (_req, res) => {
    const busStatus = bus.status();
    if (stopping.isStopping) sendJson(res, 503, { ready: false, reason: "shutting down" });
    else if (!busStatus.ready)
      sendJson(res, 503, { ready: false, reason: busStatus.reason ?? "bus not ready" });
    else sendJson(res, 200, { ready: true });
  };
}
