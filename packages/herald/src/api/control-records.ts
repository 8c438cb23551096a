import { createHash, randomBytes } from "node:crypto";

/**
 * The control records of live stream changes, token renewals and tickets (src/api/stream-control.ts),
 * as JSON in the data of a record on the hub's reserved topic (core/control.ts). They never reach a
 * subscriber. They hold no token and no ticket, only SHA-256 hashes of them (`digest`), so the
 * broker's log never holds a usable credential.
 *
 * `from`/`to` name a Herald process (a worker of a node): its `PROCESS_TAG`; `req` numbers the
 * requests of one process.
 */
export type ControlRecord =
  /** Change a stream's topics; `auth`: the digest of the request's token, null without one. */
  | {
      readonly k: "topics";
      readonly from: string;
      readonly req: number;
      readonly stream: string;
      readonly auth: string | null;
      readonly add: readonly string[];
      readonly remove: readonly string[];
    }
  /** Renew a stream's token: the new token's digest, principal id, `exp` (ms) and private grants. */
  | {
      readonly k: "token";
      readonly from: string;
      readonly req: number;
      readonly stream: string;
      readonly auth: string;
      readonly principal: string;
      readonly exp: number | null;
      readonly grants: readonly string[];
    }
  /** The holder's answer to a request of another process. */
  | {
      readonly k: "answer";
      readonly to: string;
      readonly req: number;
      readonly status: number;
      readonly body: Record<string, unknown>;
    }
  /** A ticket was issued: its digest, when it expires (ms), and the grants of the token it stands for. */
  | {
      readonly k: "ticket";
      readonly from: string;
      readonly req: number;
      readonly t: string;
      readonly exp: number;
      readonly tokenExp: number | null;
      readonly principal: string;
      readonly auth: string;
      readonly grants: readonly string[];
    }
  /** A ticket is used: the first of these in log order for a ticket wins, on every node. */
  | { readonly k: "redeem"; readonly from: string; readonly req: number; readonly t: string };

/** Parses a record's data; undefined for anything else (a record written by another version, or by hand). */
export function parseRecord(data: string): ControlRecord | undefined {
  try {
    const record = JSON.parse(data) as ControlRecord;
    return typeof record === "object" && record !== null && typeof record.k === "string" ? record : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of a token or ticket, base64url: what records and the registry hold instead of it. */
export function digest(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** 128 random bits, base64url (22 characters): stream ids and tickets. */
export function randomId(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * This process's tag (48 random bits, 8 characters): the first part of the ids of the streams it
 * holds, so any node can tell which process holds a stream.
 */
export const PROCESS_TAG = randomBytes(6).toString("base64url");

/** A stream id: `<process tag>.<128 random bits>`, both base64url. */
export const STREAM_ID = /^([A-Za-z0-9_-]{8})\.[A-Za-z0-9_-]{22}$/;
