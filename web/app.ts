import { type HeraldMessage, publish, type Subscription, subscribe } from "../src/client/index.ts";
import { startStatusPanel } from "./status.ts";

/**
 * The demo page: a live view of topics through the SDK (native EventSource), a publish form, and
 * the hub's figures. Published text is only ever put in the page with textContent, never as HTML.
 */
const MAX_SHOWN = 100;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const stateEl = $("state");
const list = $<HTMLOListElement>("messages");
const empty = $("empty");
const missed = $("missed");
const topicsInput = $<HTMLInputElement>("topics");

let subscription: Subscription | undefined;

function topicsFromLocation(): string[] {
  const topics = new URLSearchParams(location.search).getAll("topic").filter((t) => t !== "");
  return topics.length > 0 ? topics : ["prices", "news"];
}

function show(message: HeraldMessage): void {
  const data = message.data as { message?: unknown } | null;
  const value =
    data !== null && typeof data === "object" && typeof data.message === "string"
      ? data.message
      : message.text;
  const item = document.createElement("li");
  item.className = "message";
  item.dataset.id = message.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const type = document.createElement("span");
  type.className = "type";
  type.textContent = message.type;
  const id = document.createElement("span");
  id.className = "id";
  id.textContent = message.id;
  meta.append(time, type, id);
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = "Message:";
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = value;
  item.append(meta, label, text);
  list.prepend(item);
  while (list.children.length > MAX_SHOWN) list.lastElementChild?.remove();
  empty.hidden = true;
}

function watch(topics: string[]): void {
  subscription?.close();
  topicsInput.value = topics.join(", ");
  subscription = subscribe({
    url: location.origin,
    topics,
    initialDelayMs: 500,
    maxDelayMs: 5000,
    onEvent: show,
    onMissed: (info) => {
      missed.hidden = false;
      missed.textContent = `Some events may have been missed (${info.reason}); showing live events from ${info.resumeId}.`;
    },
    onStateChange: (change) => {
      stateEl.dataset.state = change.state;
      stateEl.textContent =
        change.state === "open"
          ? "live"
          : change.state === "reconnecting" && change.delayMs !== undefined
            ? `reconnecting in ${(change.delayMs / 1000).toFixed(1)} s`
            : change.state;
    },
  });
}

$<HTMLFormElement>("watch").addEventListener("submit", (event) => {
  event.preventDefault();
  const topics = topicsInput.value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  if (topics.length > 0) watch(topics);
});

$<HTMLFormElement>("publish").addEventListener("submit", (event) => {
  event.preventDefault();
  const result = $<HTMLOutputElement>("pub-result");
  const topic = $<HTMLInputElement>("pub-topic").value.trim();
  const type = $<HTMLInputElement>("pub-event").value.trim();
  const data = $<HTMLTextAreaElement>("pub-data").value;
  result.textContent = "publishing…";
  publish({ url: location.origin, topic, data, event: type === "" ? undefined : type }).then(
    (answer) => {
      result.textContent = `published ${answer.id} to ${answer.queued} subscriber(s)`;
    },
    (error: Error) => {
      result.textContent = error.message;
    },
  );
});

watch(topicsFromLocation());
startStatusPanel($("chart"));
