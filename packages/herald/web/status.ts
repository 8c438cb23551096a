import { RateChart } from "./chart.ts";

interface Status {
  time: number;
  connections: number;
  subscriptions: number;
  published: number;
  delivered: number;
  dropped: number;
  replayed: number;
  slowDisconnects: number;
  historySize: number;
}

const text = (id: string, value: string) => {
  const el = document.getElementById(id);
  if (el !== null) el.textContent = value;
};

/** Readings a rate spans (one a second). */
const WINDOW = 5;

const rate = (n: number) => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));

/**
 * The hub panel: polls `GET /status` every `intervalMs` and shows the figures; events/s in and out
 * are the differences of the `published` and `delivered` counters over the last few readings.
 */
export function startStatusPanel(chartContainer: HTMLElement, intervalMs = 1000): void {
  const chart = new RateChart(chartContainer);
  let readings: Status[] = []; // the last few, so a rate spans up to WINDOW seconds and does not flicker
  const tick = async () => {
    try {
      const response = await fetch("/status", { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const status = (await response.json()) as Status;
      text("f-connections", String(status.connections));
      text("f-subscriptions", String(status.subscriptions));
      text("f-slow", String(status.slowDisconnects));
      text("f-replayed", String(status.replayed));
      text("f-dropped", String(status.dropped));
      text("f-history", String(status.historySize));
      const previous = readings[0];
      readings = [...readings, status].slice(-WINDOW - 1);
      if (previous !== undefined && status.time > previous.time && status.published >= previous.published) {
        const seconds = (status.time - previous.time) / 1000;
        const inRate = (status.published - previous.published) / seconds;
        const outRate = (status.delivered - previous.delivered) / seconds;
        text("f-in", rate(inRate));
        text("f-out", rate(outRate));
        chart.push([inRate, outRate]);
      }
    } catch {
      text("f-connections", "offline");
      readings = [];
    }
  };
  void tick();
  setInterval(() => void tick(), intervalMs);
}
