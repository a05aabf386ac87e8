// The usertrail dashboard: active users, one person's sessions, patterns and actions, live.
// Every string from the server is written as text (el() appends text nodes), never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
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
    $("person").replaceChildren(el("p", { class: "hint" }, `No user ${selected} here (yet).`));
    return;
  }
  selectedIds = new Set(data.context.user.distinct_ids);
  $("person").replaceChildren(...personView(data).flat());
  pollWhilePending(data.actions);
}

function personView({ context, actions, sessions }) {
  const user = context.user;
  return [
    el("h1", {}, user.id),
    el("p", { class: "hint" }, `ids: ${user.distinct_ids.join(", ")}`),
    properties(user.properties),
    section("Patterns", "patterns", context.patterns.map(pattern), "No patterns yet."),
    section(
      "Recommendations",
      "recommendations",
      context.recommendations.map((r) => el("li", {}, r.message, el("small", {}, ` (${r.because})`))),
      "None yet.",
    ),
    section("Trigger firings", "firings", (actions ? actions.firings : []).map(firing), "None yet."),
    section("Sink writes", "sinks", (actions ? actions.sink_records : []).map(sinkLine), "None yet."),
    el("h2", {}, "Sessions"),
    sessions.length ? sessions.map(sessionView) : el("p", { class: "hint" }, "No events."),
    el("details", {}, el("summary", {}, "What the assistant receives (prompt block)"), el("pre", {}, context.prompt)),
  ];
}

function section(title, id, items, empty) {
  const body = items.length ? el("ul", { id, class: "items" }, items) : el("p", { class: "hint" }, empty);
  return el("section", {}, el("h2", {}, title), body);
}

function properties(props) {
  const rows = Object.entries(props)
    .filter(([, value]) => value !== null) // posthog-js sets every campaign parameter, mostly null
    .map(([key, value]) => [el("dt", {}, key), el("dd", {}, JSON.stringify(value))]);
  return rows.length ? el("dl", { class: "props" }, rows) : null;
}

function pattern(p) {
  return el(
    "li",
    { "data-pattern": p.id },
    el("strong", {}, p.summary),
    el("small", {}, ` ${p.id} · confidence ${Math.round(p.confidence * 100)}%`),
  );
}

function firing(f) {
  const deliveries = f.deliveries.map((d) =>
    el(
      "li",
      { class: `delivery ${d.status}` },
      `${d.kind}: ${d.status}`,
      d.last_error ? ` (${d.last_error})` : "",
      ` · ${plural(d.attempts, "attempt")}`,
    ),
  );
  return el(
    "li",
    { "data-trigger": f.trigger },
    el("strong", {}, `${f.trigger} #${f.threshold}`),
    ` fired at ${time(f.fired_at)} (count ${f.count}) `,
    rawButton(f.event_uuid, "event"),
    el("ul", {}, deliveries),
  );
}

function sinkLine(s) {
  return el("li", {}, `${s.sink}: ${s.status} `, rawButton(s.uuid, "event"));
}

function sessionView(s) {
  // The server rounds the length once (core.sessions), so the prompt and this view agree.
  const head = [
    `Session ${s.id}`,
    `${time(s.start)}, ${s.length}`,
    s.device,
    s.pages.join(" → "),
  ].filter(Boolean);
  const events = s.events.map((e) =>
    el(
      "li",
      { class: `event ${e.kind}` },
      el("span", { class: "when" }, time(e.ts)),
      rawButton(e.uuid, e.label, "label"),
      el("span", { class: "where" }, [e.page, e.component, e.element].filter(Boolean).join(" › ")),
    ),
  );
  return el("div", { class: "session" }, el("h3", {}, head.join(" · ")), el("ol", { class: "events" }, events));
}

function rawButton(uuid, text, cls = "link") {
  return el("button", { type: "button", class: cls, title: "Show the raw event", onclick: () => showRaw(uuid) }, text);
}

async function showRaw(uuid) {
  const data = await api(`event/${encodeURIComponent(uuid)}`);
  $("raw-json").textContent = data ? JSON.stringify(data, null, 2) : `No event ${uuid}.`;
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
    const ids = JSON.parse(event.data);
    scheduleRefresh(ids.some((id) => id === selected || selectedIds.has(id)));
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
