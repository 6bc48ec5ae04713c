// API keys limited to some sessions: list, create (the key is shown once), delete.

import {api, seg} from "./api.js";
import {busy, byId, cell, el, formatTime, onSubmit, toast} from "./dom.js";

export function initKeys() {
  onSubmit(byId("key-form"), createKey);
}

/** The "API keys" view: the keys, and a box per session for the form. */
export async function refreshView() {
  const [{keys}, {sessions}] = await Promise.all([api.get("/api/keys"), api.get("/api/sessions")]);
  byId("key-rows").replaceChildren(...keys.map(keyRow));
  byId("no-keys").hidden = keys.length > 0;
  showSessionBoxes(sessions.map((session) => session.sessionId));
}

/** One checkbox per session; ticked boxes stay ticked across refreshes. */
function showSessionBoxes(sessionIds) {
  const box = byId("key-sessions");
  const ticked = new Set([...box.querySelectorAll("input:checked")].map((input) => input.value));
  const shown = [...box.querySelectorAll("input")].map((input) => input.value);
  if (shown.join("\n") === sessionIds.join("\n")) return;
  box.replaceChildren(box.querySelector("legend"), ...sessionIds.map((id) =>
    el("label", {class: "check"}, el("input", {type: "checkbox", name: "sessions", value: id, checked: ticked.has(id)}), ` ${id}`)));
}

function keyRow(key) {
  return el("tr", {},
    cell("Name", key.name),
    cell("Key", el("code", {}, `${key.prefix}…`)),
    cell("Sessions", key.sessions.join(", ")),
    cell("Rate limit", key.rateLimit || "default"),
    cell("Created", formatTime(key.createdAt)),
    el("td", {}, el("button", {type: "button", class: "danger small", onclick: (e) => busy(e.target, () => deleteKey(key))}, "Delete")));
}

async function createKey(values, form) {
  const sessions = [].concat(values.sessions || []);
  if (!sessions.length) throw new Error("Tick at least one session the key may use.");
  const {key} = await api.post("/api/keys", {name: values.name, sessions, rateLimit: values.rateLimit || undefined});
  form.reset();
  const output = byId("key-secret");
  output.textContent = `Key "${key.name}" (copy it now, it is not shown again): ${key.key}`;
  output.hidden = false;
  await refreshView();
}

async function deleteKey(key) {
  if (!window.confirm(`Delete the key "${key.name}"? Every client using it is refused at once, and its listeners are removed.`)) return;
  await api.del(`/api/keys/${seg(key.id)}`);
  toast(`Deleted the key "${key.name}".`);
  await refreshView();
}
