import { type HeraldMessage, publish, type Subscription, subscribe } from "../../herald-client/src/index.ts";
import { startPresence } from "./presence.ts";
import { startStatusPanel } from "./status.ts";

/**
 * The demo page: a live view of topics through the SDK, one stream shared by every tab of the page
 * (`share`: the SharedWorker is /herald-client.js), a publish form, the hub's figures, and who
 * watches `prices` when the hub has presence. Published text is only ever put in the page with textContent, never as HTML.
 */
const MAX_SHOWN = 100;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const stateEl = $("state");
const list = $<HTMLOListElement>("messages");
const empty = $("empty");
const missed = $("missed");
const topicsInput = $<HTMLInputElement>("topics");
const sharing = $("sharing");

let subscription: Subscription | undefined;
let topics: string[] = [];
/** Resolves when the current subscription first opens. */
let opened: Promise<void> = Promise.resolve();
/** Event types besides `message` the page listens for (the native EventSource needs them named): `?event=` and those published from the form. */
const eventTypes = new Set(new URLSearchParams(location.search).getAll("event").filter((t) => t !== ""));

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

/** (Re)subscribes; `resume` carries the previous subscription's position over, so nothing is lost in between. */
function watch(next: string[], resume = false): void {
  const lastEventId = resume ? subscription?.lastEventId : undefined;
  subscription?.close();
  missed.hidden = true;
  topics = next;
  let markOpen = () => {};
  opened = new Promise((resolve) => {
    markOpen = resolve;
  });
  topicsInput.value = topics.join(", ");
  subscription = subscribe({
    url: location.origin,
    topics,
    lastEventId,
    eventTypes: [...eventTypes],
    initialDelayMs: 500,
    maxDelayMs: 5000,
    onEvent: show,
    share: { worker: new URL("herald-client.js", location.href) },
    onShare: ({ tabs }) => {
      sharing.textContent = tabs === 1 ? "1 tab on this stream" : `${tabs} tabs share this stream`;
      sharing.dataset.tabs = String(tabs);
    },
    onError: (error) => {
      missed.hidden = false;
      missed.textContent = `Stopped: ${error.message}`;
    },
    onMissed: (info) => {
      missed.hidden = false;
      missed.textContent = `Some events may have been missed (${info.reason}); showing live events from ${info.resumeId}.`;
    },
    onStateChange: (change) => {
      if (change.state === "open") markOpen();
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
  const next = topicsInput.value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  if (next.length > 0) watch(next);
});

$<HTMLFormElement>("publish").addEventListener("submit", (event) => {
  event.preventDefault();
  const result = $<HTMLOutputElement>("pub-result");
  const topic = $<HTMLInputElement>("pub-topic").value.trim();
  const type = $<HTMLInputElement>("pub-event").value.trim();
  const data = $<HTMLTextAreaElement>("pub-data").value;
  const token = $<HTMLInputElement>("pub-token").value.trim();
  let ready = Promise.resolve();
  if (type !== "" && type !== "message" && !eventTypes.has(type)) {
    // listen for the new type too; resume where we were, or wait for the new stream if we have no id yet
    eventTypes.add(type);
    watch(topics, true);
    if (subscription?.lastEventId === undefined) ready = opened;
  }
  result.textContent = "publishing…";
  ready
    .then(() =>
      publish({
        url: location.origin,
        topic,
        data,
        event: type === "" ? undefined : type,
        token: token === "" ? undefined : token,
      }),
    )
    .then(
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
startPresence($("presence"), "prices");
