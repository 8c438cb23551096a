/**
 * The ids a tab received last, in order, to drop what a new host sends it again after a leader
 * handover: the new leader resumes after the last id *it* saw (the host's `at`), so a tab that was
 * ahead gets again the events it had between that id and its own last one.
 *
 * Contract: only that replay is dropped, and only while it repeats, in order, the ids this tab
 * received after `at`. An event whose id the tab saw at another time (another publisher reusing
 * the id, a Mercure update dispatched twice) is delivered: ids are not unique, and a tab must never
 * drop what the hub delivers (issue 11, id squatting). Holds at most `capacity` ids.
 */
export class RecentIds {
  private readonly ids: string[] = [];
  /** Index in `ids` of the next id a handover's replay is expected to repeat (-1: no replay). */
  private next = -1;

  constructor(private readonly capacity = 1024) {}

  /**
   * The host resumed after `at`: when this tab received `at` and more after it, those next events
   * are expected again, in order. Otherwise (the tab is behind, or `at` is its own last id)
   * nothing is dropped.
   */
  resumedAfter(at: string): void {
    // the hub resumes after the EARLIEST event carrying a reused id: so does this
    const index = this.ids.indexOf(at);
    this.next = index >= 0 && index < this.ids.length - 1 ? index + 1 : -1;
  }

  /** True when `id` is the next event of a handover's replay this tab already has; else records it. */
  repeated(id: string): boolean {
    if (this.next >= 0) {
      if (this.ids[this.next] === id) {
        this.next = this.next + 1 < this.ids.length ? this.next + 1 : -1;
        return true;
      }
      this.next = -1; // the replay went past what this tab had: everything from here is new
    }
    this.ids.push(id);
    if (this.ids.length > this.capacity) this.ids.shift();
    return false;
  }
}
