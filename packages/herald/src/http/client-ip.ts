import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/**
 * The client's IP, for per-IP limits and anonymous rate limits. The socket's peer address, or with
 * `trustProxy` the last X-Forwarded-For entry (the one the trusted proxy appended; earlier entries
 * are whatever the client sent and are ignored). An unusable header falls back to the peer address.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (!trustProxy) return peer;
  const header = req.headers["x-forwarded-for"];
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  const last = value?.split(",").pop()?.trim();
  return last !== undefined && last !== "" && last.length <= 64 ? last : peer;
}

/** True when the request came over TLS, directly or (as the proxy says) through X-Forwarded-Proto. */
export function isSecure(req: IncomingMessage): boolean {
  if ((req.socket as TLSSocket).encrypted === true) return true;
  const proto = req.headers["x-forwarded-proto"];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}
