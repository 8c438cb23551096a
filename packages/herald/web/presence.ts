/**
 * Who watches `topic`, from `GET /presence?topic=T` (`{topic, count, subscribers}`), polled every
 * `intervalMs`: "watching prices: 3 (alice, bob)". The names are the streams'
 * token subjects (`sub`), shown with textContent only. A hub without presence for the topic (any
 * answer but 200) shows nothing, and is not asked again.
 */
export function startPresence(el: HTMLElement, topic: string, intervalMs = 5000): void {
  const poll = async (): Promise<void> => {
    try {
      const response = await fetch(`presence?topic=${encodeURIComponent(topic)}`, { cache: "no-store" });
      if (response.status !== 200) {
        el.hidden = true;
        return;
      }
      const body = (await response.json()) as { count?: unknown; subscribers?: unknown };
      if (typeof body.count === "number") {
        el.textContent = `watching ${topic}: ${body.count}${who(body.subscribers)}`;
        el.dataset.count = String(body.count);
        el.hidden = false;
      }
    } catch {
      el.hidden = true; // the hub is down: try again later
    }
    setTimeout(() => void poll(), intervalMs);
  };
  void poll();
}

/** " (alice, bob)": the subjects of the streams with a token; streams without one are only counted. */
function who(subscribers: unknown): string {
  const names = Array.isArray(subscribers)
    ? subscribers.filter((s): s is string => typeof s === "string")
    : [];
  return names.length === 0 ? "" : ` (${names.join(", ")})`;
}
