import { badRequest } from "./errors.ts";
import type { PublishInput } from "./event.ts";

/**
 * Ids the hub makes: `<epoch>-<pos>`. The epoch names one life of the log (a new one after history
 * was lost), so an id from an earlier life is recognised and never resumed from the wrong place.
 * Epochs are lowercase letters and digits; positions are decimal.
 */
const HUB_ID = /^([0-9a-z]{1,32})-(\d{1,16})$/;

export function formatHubId(epoch: string, pos: number): string {
  return `${epoch}-${pos}`;
}

export function parseHubId(id: string): { epoch: string; pos: number } | undefined {
  const match = HUB_ID.exec(id);
  if (match === null) return undefined;
  return { epoch: match[1] as string, pos: Number(match[2]) };
}

/**
 * Refuses publisher ids that have the form of an id of this log's `epoch` (they would alias a
 * position). Throws `bad_request`. Nothing is refused before the log has an epoch.
 */
export function refuseHubIds(inputs: readonly PublishInput[], epoch: string | undefined): void {
  for (const input of inputs) refuseHubId(input.id, epoch);
}

/** `refuseHubIds` for one publisher id (undefined: none given, nothing to refuse). */
export function refuseHubId(id: string | undefined, epoch: string | undefined): void {
  if (id !== undefined && epoch !== undefined && parseHubId(id)?.epoch === epoch) {
    throw badRequest(`"id" ${JSON.stringify(id)} has the form of an id the hub makes; choose another`);
  }
}
