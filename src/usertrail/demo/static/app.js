// Acme Reports: a small single-page app with real posthog-js autocapture, pointed at usertrail.
// Every string from the server is written with textContent, never as markup.
"use strict";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const $ = (id) => document.getElementById(id);

const ROUTES = {
  "/demo": ["home", "Home"],
  "/demo/dashboard": ["dashboard", "Dashboard"],
  "/demo/reports": ["reports", "Reports"],
  "/demo/settings/billing": ["billing", "Billing"],
  "/demo/settings": ["settings", "Settings"],
  "/demo/login": ["login", "Log in"],
};
const FAILED_PROMPTS = [
  ["Summarize Q3 revenue by region and email it to jane@example.com", "context_length_exceeded"],
  ["Explain why churn went up in March", "model_timeout"],
  ["Draft a report on support tickets by plan", "content_filter"],
];

// --- posthog-js ---------------------------------------------------------------------------

function initPosthog() {
  if (!window.posthog) return;
  window.posthog.init(config.token, {
    api_host: location.origin,
    autocapture: true,
    capture_pageview: "history_change", // a $pageview for every client-side navigation
    person_profiles: "always",
    request_batching: false, // send each event at once: the demo is about seeing it live
    opt_out_useragent_filter: true, // headless browsers (the tests) would be dropped as bots
    disable_session_recording: true,
    loaded: () => {
      window.__acmeReady = true;
      showUser();
      watchContext();
    },
  });
}

const distinctId = () => (window.posthog ? window.posthog.get_distinct_id() : null);
const capture = (event, props) => window.posthog && window.posthog.capture(event, props);

// --- routing ------------------------------------------------------------------------------

function routeOf(path) {
  return ROUTES[path.replace(/\/+$/, "") || "/demo"] || ["notfound", "Not found"];
}

function render(path) {
  const [page, title] = routeOf(path);
  document.title = `${title} · Acme Reports`;
  $("view").replaceChildren($(`page-${page}`).content.cloneNode(true));
  for (const link of document.querySelectorAll("nav.sidebar a")) {
    link.classList.toggle("active", link.pathname === path);
  }
  (PAGE_SETUP[page] || (() => {}))();
}

function navigate(path) {
  if (path === location.pathname) return;
  document.title = `${routeOf(path)[1]} · Acme Reports`; // before posthog-js sees pushState
  history.pushState({}, "", path);
  render(path);
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link) return;
  event.preventDefault();
  navigate(link.pathname);
});
window.addEventListener("popstate", () => render(location.pathname));

// --- pages --------------------------------------------------------------------------------

const PAGE_SETUP = {
  billing() {
    let chosen = null;
    for (const button of document.querySelectorAll(".plan-card button[data-plan]")) {
      button.addEventListener("click", () => {
        chosen = button.dataset.plan;
        $("plan-name").textContent = button.closest(".plan-card").querySelector("h2").textContent;
        $("plan-confirm").hidden = false;
      });
    }
    $("cancel-plan").addEventListener("click", () => ($("plan-confirm").hidden = true));
    $("confirm-plan").addEventListener("click", () => {
      capture("plan_selected", { plan: chosen });
      window.posthog && window.posthog.setPersonProperties({ plan: chosen });
      $("plan-confirm").hidden = true;
      $("plan-done").hidden = false;
      $("plan-done").textContent = `You are now on ${chosen}.`;
    });
  },
  settings() {
    $("profile").addEventListener("submit", (event) => {
      event.preventDefault();
      $("saved").hidden = false;
    });
  },
  login() {
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      logIn(form.elements.name.value.trim(), form.elements.email.value.trim().toLowerCase());
      navigate("/demo/dashboard");
    });
  },
};

// --- identity -----------------------------------------------------------------------------

function logIn(name, email) {
  const id = "user_" + email.split("@")[0].replace(/[^a-z0-9]+/g, "_");
  window.posthog && window.posthog.identify(id, { email, name, plan: "free" });
  localStorage.setItem("acme-user", JSON.stringify({ id, name }));
  showUser();
  watchContext();
}

function logOut() {
  window.posthog && window.posthog.reset();
  localStorage.removeItem("acme-user");
  showUser();
  watchContext();
}

function showUser() {
  const user = JSON.parse(localStorage.getItem("acme-user") || "null");
  $("who").textContent = user ? `Signed in as ${user.name} (${user.id})` : "Not signed in";
  $("login-link").hidden = Boolean(user);
  $("logout").hidden = !user;
}

$("logout").addEventListener("click", logOut);

// --- event simulator ----------------------------------------------------------------------

let featureUses = 0;
let failures = 0;

$("simulate-feature").addEventListener("click", () => {
  featureUses += 1;
  capture("feature_used", { feature: "AI summaries" });
  $("simulated").textContent = `Sent feature_used ×${featureUses}.`;
});

$("simulate-failure").addEventListener("click", () => {
  const [prompt, reason] = FAILED_PROMPTS[failures % FAILED_PROMPTS.length];
  failures += 1;
  capture("generation_failed", { input_prompt: prompt, failure_reason: reason });
  $("simulated").textContent = `Sent generation_failed (${reason}).`;
});

// --- the assistant panel: the context object, live over SSE --------------------------------

let stream = null;
let watching = null;

function watchContext() {
  const id = distinctId();
  if (!id || id === watching) return;
  watching = id;
  if (stream) stream.close();
  $("ctx-status").textContent = `Waiting for the first events of ${id}…`;
  stream = new EventSource(`/demo/api/context/${encodeURIComponent(id)}/stream`);
  stream.addEventListener("context", (event) => showContext(JSON.parse(event.data)));
}

function showContext(ctx) {
  const time = new Date(ctx.generated_at).toLocaleTimeString();
  $("ctx-status").textContent = `Context for ${ctx.user.id}, updated ${time}`;
  fillList($("ctx-patterns"), ctx.patterns.map((p) => p.summary), "No patterns yet.");
  fillList($("ctx-recommendations"), ctx.recommendations.map((r) => r.message), "None yet.");
  $("ctx-prompt").textContent = ctx.prompt;
  refreshInbox();
}

function fillList(list, texts, empty) {
  const items = (texts.length ? texts : [empty]).map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    if (!texts.length) item.className = "hint";
    return item;
  });
  list.replaceChildren(...items);
}

// --- the webhook inbox: what the power_user trigger posted to /demo/webhook-inbox ----------

async function refreshInbox() {
  const response = await fetch("/demo/api/webhooks");
  if (!response.ok) return;
  const { signing, received } = await response.json();
  const check = signing ? "signatures verified" : "unsigned";
  $("inbox-status").textContent = received.length
    ? `${received.length} received, ${check}.`
    : "Nothing received yet.";
  fillList($("inbox"), received.map(describeWebhook), "");
  if (!received.length) $("inbox").replaceChildren();
}

function describeWebhook(hook) {
  const body = hook.body || {};
  const person = (body.person && body.person.id) || "?";
  const time = new Date(hook.received_at).toLocaleTimeString();
  return `${time}: ${body.trigger} fired for ${person} (count ${body.count})`;
}

setInterval(refreshInbox, 3000); // deliveries land after the events that caused them

// --- start --------------------------------------------------------------------------------

render(location.pathname);
showUser();
refreshInbox();
initPosthog();
if (!window.posthog) $("ctx-status").textContent = "posthog-js is not loaded.";
