// Sessions: the list with live status, the selected session's facts and actions, its QR and pairing.

import {api, imageUrl, seg} from "./api.js";
import {badge, busy, byId, debounce, el, fillSelects, formatTime, onSubmit, toast} from "./dom.js";

const sessions = new Map();
const selectListeners = [];
let selectedId = null;
let qrObjectUrl = null;

const RUNNING = ["starting", "qr", "connected", "disconnected"];
const FACTS = [
  ["Description", (s) => s.description],
  ["Engine", (s) => s.engine],
  ["Phone", (s) => s.phone],
  ["WhatsApp name", (s) => s.pushName],
  ["Connected since", (s) => s.connectedAt && formatTime(s.connectedAt)],
  ["Reconnecting", (s) => s.reconnect?.attempts && `attempt ${s.reconnect.attempts}, next at ${formatTime(s.reconnect.nextRetryAt)}`],
  ["Last error", (s) => s.lastError],
  ["Calls", (s) => s.settings?.rejectCalls && "rejected"],
  ["Pace", (s) => pace(s.settings || {})],
  ["Queue", (s) => queue(s.queue)],
];
const SENT_EVENTS = ["message-sent", "message-failed"];
const queueRefreshes = new Map();  // sessionId -> debounced refresh: a paced run sends one event per message

/** "20/min · 60 new contacts/h · 1000/day", or "" without limits. */
function pace({sendRate, newContactRate, dailyLimit}) {
  const parts = [sendRate && `${sendRate}/min`, newContactRate && `${newContactRate} new contacts/h`,
                 dailyLimit && `${dailyLimit}/day`];
  return parts.filter(Boolean).join(" · ");
}

/** "30 waiting, drains in 29 s (12:04:31)", or "" when empty. */
function queue(state) {
  if (!state?.waiting) return "";
  const seconds = state.drainSeconds;
  const span = seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
  return `${state.waiting} waiting, drains in ${span} (${formatTime(state.drainsAt)})`;
}
const ACTIONS = {
  connect: (id) => api.post(`/api/sessions/${seg(id)}/connect`),
  stop: (id) => api.post(`/api/sessions/${seg(id)}/stop`),
  logout: (id) => api.post(`/api/sessions/${seg(id)}/logout`),
  delete: (id) => api.del(`/api/sessions/${seg(id)}`),
};

/** callback(session | null) whenever another session is selected. */
export function onSelect(callback) {
  selectListeners.push(callback);
}

export const selectedSession = () => sessions.get(selectedId) || null;

export function initSessions() {
  onSubmit(byId("create-form"), createSession);
  onSubmit(byId("pair-form"), requestPairingCode);
  const panel = byId("session-panel");
  for (const button of panel.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => busy(button.parentElement, () => runAction(button.dataset.action)));
  }
}

/** Load every session (at sign-in and whenever the live stream reconnects). */
export async function loadSessions() {
  const {sessions: list} = await api.get("/api/sessions");
  sessions.clear();
  list.forEach((session) => sessions.set(session.sessionId, session));
  listChanged();
  byId("new-session").open ||= list.length === 0;
  if (!sessions.has(selectedId)) select(list.length ? list[0].sessionId : null);
  else renderDetail();
}

/** A live event: status changes refresh that session, new QR codes refresh the image. */
export function handleEvent(envelope) {
  if (envelope.type === "session-status") refreshSession(envelope.sessionId);
  if (envelope.type === "qr" && envelope.sessionId === selectedId) refreshQr();
  if (SENT_EVENTS.includes(envelope.type)) refreshQueue(envelope.sessionId);
}

/** The session's queue after sends: one refresh per burst, not one request per message. */
function refreshQueue(sessionId) {
  if (!queueRefreshes.has(sessionId)) queueRefreshes.set(sessionId, debounce(() => refreshSession(sessionId), 500));
  queueRefreshes.get(sessionId)();
}

async function refreshSession(sessionId) {
  try {
    upsert((await api.get(`/api/sessions/${seg(sessionId)}`)).session);
  } catch (error) {
    if (error.status === 404) forget(sessionId);
  }
}

/** A session view the caller got from the API (e.g. after saving its settings). */
export function upsert(session) {
  const previous = sessions.get(session.sessionId);
  sessions.set(session.sessionId, session);
  listChanged();
  if (session.sessionId !== selectedId) return;
  renderDetail();
  if (previous?.status !== session.status) refreshQr();
}

function forget(sessionId) {
  sessions.delete(sessionId);
  listChanged();
  if (sessionId === selectedId) select(sessions.keys().next().value ?? null);
}

function select(sessionId) {
  selectedId = sessionId;
  byId("pair-code").hidden = true;
  listChanged();
  renderDetail();
  refreshQr();
  selectListeners.forEach((callback) => callback(selectedSession()));
}

function listChanged() {
  byId("session-list").replaceChildren(...[...sessions.values()].map(sessionItem));
  byId("no-sessions").hidden = sessions.size > 0;
  fillSelects("select[data-sessions]", [...sessions.keys()].map((id) => [id, id]));
}

function sessionItem(session) {
  const current = session.sessionId === selectedId;
  return el("li", {},
    el("button", {type: "button", class: "session-item", "aria-current": current && "true",
                  dataset: {sessionId: session.sessionId}, onclick: () => select(session.sessionId)},
      el("span", {class: "session-name"}, session.sessionId),
      session.sandbox && el("span", {class: "tag"}, "sandbox"),
      session.queue?.waiting > 0 && el("span", {class: "tag", title: queue(session.queue)}, `${session.queue.waiting} queued`),
      badge(session.status)));
}

function renderDetail() {
  const session = selectedSession();
  byId("no-selection").hidden = Boolean(session);
  byId("session-panel").hidden = !session;
  if (!session) return;
  byId("detail-title").textContent = session.sessionId;
  byId("detail-status").replaceWith(Object.assign(badge(session.status), {id: "detail-status"}));
  const facts = FACTS.map(([label, value]) => [label, value(session)]).filter(([, value]) => value);
  byId("detail-facts").replaceChildren(...facts.flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
  const running = RUNNING.includes(session.status);
  setEnabled({connect: !running || session.status === "disconnected", stop: running, logout: running, delete: true});
  byId("link-card").hidden = ["connected", "disconnected"].includes(session.status);
  byId("sandbox-card").hidden = !session.sandbox;
}

function setEnabled(states) {
  for (const [action, enabled] of Object.entries(states)) {
    byId("session-panel").querySelector(`[data-action="${action}"]`).disabled = !enabled;
  }
}

async function refreshQr() {
  const session = selectedSession();
  if (session?.status !== "qr") {
    return showQr(null, session?.status === "starting" ? "Waiting for a QR code…" : "Press Connect to show a QR code.");
  }
  try {
    const url = await imageUrl(`/api/sessions/${seg(session.sessionId)}/qr?format=svg`);
    if (selectedId === session.sessionId) showQr(url, "Open WhatsApp → Linked devices → Link a device, and scan.");
    else URL.revokeObjectURL(url);
  } catch (error) {
    showQr(null, error.message);
  }
}

function showQr(url, caption) {
  if (qrObjectUrl) URL.revokeObjectURL(qrObjectUrl);
  qrObjectUrl = url;
  const image = byId("qr-image");
  image.hidden = !url;
  if (url) image.src = url;
  else image.removeAttribute("src");
  byId("qr-caption").textContent = caption;
}

async function createSession(values, form) {
  const body = {sessionId: values.sessionId.trim(), description: values.description, engine: values.engine,
                start: Boolean(values.start)};
  const {session} = await api.post("/api/sessions", body);
  form.reset();
  byId("new-session").open = false;
  sessions.set(session.sessionId, session);
  select(session.sessionId);
  toast(`Session ${session.sessionId} created.`);
}

async function requestPairingCode(values) {
  const {code} = await api.post(`/api/sessions/${seg(selectedId)}/pair`, {phone: values.phone});
  const output = byId("pair-code");
  output.textContent = `Type this code on the phone: ${code}`;
  output.hidden = false;
}

async function runAction(action) {
  const sessionId = selectedId;
  if (action === "delete" && !window.confirm(`Delete session ${sessionId} and its WhatsApp credentials?`)) return;
  const result = await ACTIONS[action](sessionId);
  if (result.session) upsert(result.session);
  else forget(sessionId);
  toast(`${sessionId}: ${action} done.`);
}
