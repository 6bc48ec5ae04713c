// Entry point: the login screen, the views (four, and Cluster on PostgreSQL), the live event stream and periodic refresh.

import {apiKey, request, whenUnauthorized} from "./api.js";
import {busy, byId, toast} from "./dom.js";
import {connectEvents} from "./live.js";
import * as cluster from "./cluster.js";
import * as deliveries from "./deliveries.js";
import * as endpoints from "./endpoints.js";
import * as keys from "./keys.js";
import * as messages from "./messages.js";
import * as sandbox from "./sandbox.js";
import * as sessions from "./sessions.js";
import * as settings from "./settings.js";

const VIEWS = {
  // Deleting a session sends no event; webhook health changes with every delivery.
  sessions: () => Promise.all([sessions.loadSessions(), endpoints.loadSessionWebhooks()]),
  endpoints: endpoints.refreshView,
  deliveries: () => Promise.all([endpoints.loadEndpoints(), deliveries.refresh()]),
  keys: keys.refreshView,
};
if (document.getElementById("view-cluster")) VIEWS.cluster = cluster.refreshView;  // rendered on PostgreSQL only
const POLL_MS = 5000;  // delivery statuses change without an event (the dispatcher's attempts)
let activeView = "sessions";
let closeEvents = null;
let pollTimer = null;

function init() {
  sessions.initSessions();
  sandbox.initSandbox();
  messages.initMessages();
  endpoints.initEndpoints();
  deliveries.initDeliveries();
  keys.initKeys();
  settings.initSettings();
  sessions.onSelect((session) => [sandbox, messages, endpoints, settings].forEach((module) => module.showFor(session)));
  byId("login-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut(""));
  window.addEventListener("hashchange", () => showView(window.location.hash.slice(1)));
  whenUnauthorized(() => signOut("The hub no longer accepts this API key. Sign in again."));
  if (apiKey.get()) start();
  else signOut("");
}

async function signIn(event) {
  event.preventDefault();
  const key = byId("login-key").value.trim();
  try {
    await request("GET", "/api/sessions", undefined, key);
  } catch (error) {
    showLoginError(error.status === 401 || error.status === 403 ? "That API key is not valid for this hub." : error.message);
    return;
  }
  apiKey.set(key);
  byId("login-key").value = "";
  start();
}

function showLoginError(message) {
  const line = byId("login-error");
  line.textContent = message;
  line.hidden = !message;
}

function start() {
  byId("login").hidden = true;
  byId("app").hidden = false;
  closeEvents = connectEvents(onHubEvent, onLiveState);
  pollTimer = setInterval(poll, POLL_MS);
  showView(window.location.hash.slice(1));
}

function signOut(message) {
  apiKey.clear();
  closeEvents?.();
  clearInterval(pollTimer);
  closeEvents = null;
  byId("app").hidden = true;
  byId("login").hidden = false;
  showLoginError(message);
}

function showView(name) {
  activeView = name in VIEWS ? name : "sessions";
  for (const view of Object.keys(VIEWS)) byId(`view-${view}`).hidden = view !== activeView;
  for (const link of document.querySelectorAll("[data-view]")) {
    link.setAttribute("aria-current", link.dataset.view === activeView ? "page" : "false");
  }
  refreshView();
}

/** Quietly refresh the shown view (not busy(): that would steal focus from a form being typed in). */
function refreshView() {
  VIEWS[activeView]().catch((error) => toast(error.message, "error"));
}

function poll() {
  if (document.visibilityState === "visible") refreshView();
}

function onHubEvent(envelope) {
  sessions.handleEvent(envelope);
  messages.handleEvent(envelope);
  if (activeView === "deliveries") deliveries.refreshSoon();
  if (activeView === "endpoints") endpoints.refreshSoon();
}

/** Live again after a gap: reload the sessions, events may have been missed meanwhile. */
function onLiveState(state) {
  const badge = byId("live");
  const wasOffline = badge.dataset.state === "offline";
  badge.dataset.state = state;
  badge.textContent = state;
  if (state === "live" && wasOffline) busy(byId("session-list"), sessions.loadSessions);
}

init();
