// The usertrail dashboard: active users, one person's sessions, patterns and actions, live.
// Every string from the server is written as text (el() appends text nodes), never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("ui-config").textContent);
const PENDING_POLL_MS = 2000; // deliveries change after the events that caused them

let selected = decodeURIComponent((location.hash.match(/^#user=(.+)$/) || [])[1] || "") || null;
let selectedIds = new Set();
let refreshTimer = null;
let personDirty = false;
let pendingPoll = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

const time = (ts) => new Date(ts).toLocaleTimeString();
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const clock = (date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

// "Today 14:05", "Yesterday 09:12", "Tuesday 14:05", else "3 Nov 14:05".
function when(ts) {
  const date = new Date(ts);
  const days = Math.round((startOfDay(new Date()) - startOfDay(date)) / 86_400_000);
  const day =
    days === 0 ? "Today"
    : days === 1 ? "Yesterday"
    : days < 7 ? date.toLocaleDateString([], { weekday: "long" })
    : date.toLocaleDateString([], { day: "numeric", month: "short" });
  return `${day} ${clock(date)}`;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

// "power_user" -> "Power user": a name from the project file when it gives no description.
const humane = (name) => {
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

async function api(path) {
  const response = await fetch(`/ui/api/${path}`, { credentials: "same-origin" });
  if (response.status === 401) location.reload(); // the key was revoked: back to the form
  return response.ok ? response.json() : null;
}

// --- who is active ------------------------------------------------------------------------

async function loadActive() {
  const data = await api("active?minutes=30");
  if (!data) return;
  const items = data.persons.map((p) =>
    el(
      "li",
      { class: p.id === selected ? "selected" : "" },
      el(
        "button",
        { class: "person", "data-user": p.id, onclick: () => select(p.id) },
        el("strong", {}, p.id),
        el("span", { class: "when" }, time(p.last_seen)),
        el("span", { class: "last" }, p.last_label || ""),
      ),
    ),
  );
  $("active-list").replaceChildren(...items);
  $("no-active").hidden = items.length > 0;
  if ($("demo-hint")) $("demo-hint").hidden = items.length > 0;
}

// --- the relay to PostHog -------------------------------------------------------------------

async function loadRelay() {
  const data = await api("relay");
  $("relay").hidden = !data || !data.posthog_host;
  if (!data || !data.posthog_host) return;
  const lines = [
    el("span", {}, `Events also go to ${data.posthog_host}.`),
    el("br"),
    data.backlog
      ? el("span", { class: "warn" },
          `${plural(data.backlog, "event")} waiting to be sent (oldest ${Math.round(data.lag_seconds)} s ago).`)
      : el("span", {}, "Up to date: every event has reached PostHog."),
  ];
  if (data.dead_letters) {
    lines.push(el("br"), el("span", { class: "warn" },
      `${plural(data.dead_letters, "event")} refused by PostHog, latest: ${data.recent_dead[0].reason}`));
  }
  const counts = data.since_start;
  if (counts) {
    lines.push(el("br"), el("small", {},
      `Since start: ${plural(counts.sent, "event")} sent, ${counts.retried} failed ${counts.retried === 1 ? "try" : "tries"} retried, ${counts.dead} refused.`));
    if (data.backlog && counts.last_error) lines.push(el("br"), el("small", {}, `Last error: ${counts.last_error}`));
  }
  $("relay-state").replaceChildren(...lines);
}

function select(id) {
  selected = id;
  history.replaceState(null, "", `#user=${encodeURIComponent(id)}`);
  $("raw").hidden = true;
  loadActive();
  loadPerson();
}

// --- one person ---------------------------------------------------------------------------

async function loadPerson() {
  if (!selected) return;
  const data = await api(`person/${encodeURIComponent(selected)}`);
  if (!data) {
    $("person").replaceChildren(el("p", { class: "hint" }, `Nobody called ${selected} has used the product yet.`));
    return;
  }
  selectedIds = new Set(data.context.user.distinct_ids);
  $("person").replaceChildren(...personView(data).flat());
  pollWhilePending(data.actions);
}

function personView({ context, actions, sessions }) {
  const user = context.user;
  const others = user.distinct_ids.filter((id) => id !== user.id);
  const summaries = Object.fromEntries(context.patterns.map((p) => [p.id, p.summary]));
  return [
    el("h1", {}, user.id),
    alsoSeen(others),
    properties(user.properties),
    section("What stands out", "patterns", context.patterns.map(pattern), "Nothing stands out yet."),
    section(
      "Suggested next steps",
      "recommendations",
      context.recommendations.map((r) => suggestion(r, summaries)),
      "No suggestions yet.",
    ),
    section("Automations that ran", "firings", (actions ? actions.firings : []).map(firing), "None yet."),
    section("Saved to data files", "sinks", (actions ? actions.sink_records : []).map(sinkLine), "Nothing yet."),
    el("h2", {}, "Visits"),
    sessions.length ? sessions.map(sessionView) : el("p", { class: "hint" }, "No visits yet."),
    el("details", {}, el("summary", {}, "What an AI assistant is told about this person"), el("pre", {}, context.prompt)),
  ];
}

// Other ids of the same person: named ones listed; the SDK's random ids (UUIDs, one per
// browser before signing in) counted, since their digits tell a reader nothing.
const RANDOM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function alsoSeen(ids) {
  const named = ids.filter((id) => !RANDOM_ID.test(id));
  const anonymous = ids.length - named.length;
  const parts = [
    named.length ? `Also known as ${named.join(", ")}` : null,
    anonymous ? `browsed anonymously on ${plural(anonymous, "device")} before signing in` : null,
  ].filter(Boolean);
  if (!parts.length) return null;
  const text = parts.join("; ");
  return el("p", { class: "hint aka" }, text.charAt(0).toUpperCase() + text.slice(1) + ".");
}

function section(title, id, items, empty) {
  const body = items.length ? el("ul", { id, class: "items" }, items) : el("p", { class: "hint" }, empty);
  return el("section", {}, el("h2", {}, title), body);
}

function properties(props) {
  const rows = Object.entries(props)
    // posthog-js sets every campaign parameter (mostly null) and its own `$` properties
    .filter(([key, value]) => value !== null && !key.startsWith("$"))
    .map(([key, value]) => [
      el("dt", {}, humane(key)),
      el("dd", {}, typeof value === "string" ? value : JSON.stringify(value)),
    ]);
  return rows.length ? el("dl", { class: "props" }, rows) : null;
}

// How sure a pattern is, in words: the number itself means little to a reader.
const certainty = (c) => (c >= 0.8 ? "clear sign" : c >= 0.5 ? "likely" : "early sign");

function pattern(p) {
  return el("li", { "data-pattern": p.id }, el("strong", {}, p.summary), el("small", {}, ` (${certainty(p.confidence)})`));
}

function suggestion(r, summaries) {
  const because = summaries[r.because];
  return el("li", {}, r.message, because ? el("small", {}, ` — because: ${because}`) : null);
}

const SENT = { delivered: "sent", pending: "waiting to be sent", dead: "not sent" };
const KINDS = { webhook: "Webhook", email: "Email" };

function firing(f) {
  const deliveries = f.deliveries.map((d) =>
    el(
      "li",
      { class: `delivery ${d.status}` },
      `${KINDS[d.kind] || humane(d.kind)} ${SENT[d.status] || d.status}`,
      d.last_error ? `: ${d.last_error}` : "",
      d.attempts > 1 ? ` (after ${d.attempts} tries)` : "",
    ),
  );
  const about = config.triggers[f.trigger];
  return el(
    "li",
    { "data-trigger": f.trigger },
    el("strong", {}, humane(f.trigger)),
    about ? ` — ${about}.` : "",
    ` Ran after ${plural(f.count, "matching event")} (${when(f.fired_at)}). `,
    rawButton(f.event_uuid, "Show the event that set it off"),
    el("ul", {}, deliveries),
  );
}

const WRITTEN = { written: "saved", pending: "waiting to be saved", dropped: "left out (personal data could not be removed)" };

function sinkLine(s) {
  const name = config.sinks[s.sink] || humane(s.sink);
  return el("li", {}, `${name}: ${WRITTEN[s.status] || s.status}. `, rawButton(s.uuid, "Show the saved event"));
}

function sessionView(s) {
  const head = [when(s.start), s.duration, s.device].filter(Boolean);
  const events = s.events.map((e) =>
    el(
      "li",
      { class: `event ${e.kind}` },
      el("span", { class: "when" }, time(e.ts)),
      rawButton(e.uuid, e.label, "label"),
      el("span", { class: "where" }, [e.page, e.component, e.element].filter(Boolean).join(" › ")),
    ),
  );
  const pages = s.pages.length ? el("p", { class: "pages" }, `Pages: ${s.pages.join(" → ")}`) : null;
  return el("div", { class: "session" }, el("h3", {}, head.join(" · ")), pages, el("ol", { class: "events" }, events));
}

function rawButton(uuid, text, cls = "link") {
  return el("button", { type: "button", class: cls, title: "Show the event as your app sent it", onclick: () => showRaw(uuid) }, text);
}

async function showRaw(uuid) {
  const data = await api(`event/${encodeURIComponent(uuid)}`);
  $("raw-json").textContent = data ? JSON.stringify(data, null, 2) : "This event is no longer kept.";
  $("raw").hidden = false;
}

function pollWhilePending(actions) {
  const firings = actions ? actions.firings : [];
  const lines = actions ? actions.sink_records : [];
  const pending =
    firings.some((f) => f.deliveries.some((d) => d.status === "pending")) ||
    lines.some((s) => s.status === "pending");
  if (pending && !pendingPoll) {
    pendingPoll = setTimeout(() => {
      pendingPoll = null;
      loadPerson();
    }, PENDING_POLL_MS);
  }
}

// --- live: the server says whose events were processed; refresh what shows them -------------

function connect() {
  const source = new EventSource("/ui/api/stream");
  source.onopen = () => setLive("live", true);
  source.onerror = () => setLive("reconnecting…", false);
  source.addEventListener("changed", (event) => {
    const ids = JSON.parse(event.data); // null: anyone may have changed
    scheduleRefresh(ids === null || ids.some((id) => id === selected || selectedIds.has(id)));
  });
}

function setLive(text, on) {
  $("live").textContent = text;
  $("live").classList.toggle("on", on);
}

function scheduleRefresh(person) {
  personDirty = personDirty || person;
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    loadActive();
    if (personDirty) loadPerson();
    personDirty = false;
  }, 250);
}

$("raw-close").addEventListener("click", () => ($("raw").hidden = true));
connect();
loadActive();
loadRelay();
setInterval(loadRelay, 5000);
loadPerson();
