/**
 * "watching <topic>: N" from `GET /presence?topic=T` (`{topic, count, subscribers}`), polled every
 * `intervalMs`. A hub without presence (any answer but 200) shows nothing, and is not asked again.
 */
export function startPresence(el: HTMLElement, topic: string, intervalMs = 5000): void {
  const poll = async (): Promise<void> => {
    try {
      const response = await fetch(`presence?topic=${encodeURIComponent(topic)}`, { cache: "no-store" });
      if (response.status !== 200) {
        el.hidden = true;
        return;
      }
      const body = (await response.json()) as { count?: unknown };
      if (typeof body.count === "number") {
        el.textContent = `watching ${topic}: ${body.count}`;
        el.hidden = false;
      }
    } catch {
      el.hidden = true; // the hub is down: try again later
    }
    setTimeout(() => void poll(), intervalMs);
  };
  void poll();
}
