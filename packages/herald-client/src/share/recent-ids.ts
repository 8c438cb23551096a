/**
 * The ids a tab received last, to drop an event it gets twice: when a new leader takes over it
 * resumes after the last id *it* saw, so other tabs may get again what they already had.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 1024) {}

  /** True when `id` was already seen; else remembers it. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    return false;
  }
}
