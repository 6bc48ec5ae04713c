// Session settings: description, call rejection, history import and send limits (PATCH /api/sessions/<id>).

import {api, seg} from "./api.js";
import {byId, onSubmit, toast} from "./dom.js";
import {upsert} from "./sessions.js";

const FLAGS = ["rejectCalls", "syncHistory"];
const LIMITS = ["sendRate", "dailyLimit", "newContactRate"];
let sessionId = null;

export function initSettings() {
  onSubmit(byId("settings-form"), save);
}

/** The form shows the selected session's settings. */
export function showFor(session) {
  sessionId = session?.sessionId ?? null;
  if (!session) return;
  const fields = byId("settings-form").elements;
  const settings = session.settings || {};
  fields.description.value = session.description || "";
  fields.rejectCallMessage.value = settings.rejectCallMessage || "";
  FLAGS.forEach((name) => { fields[name].checked = Boolean(settings[name]); });
  LIMITS.forEach((name) => { fields[name].value = settings[name] ?? ""; });
}

async function save(values) {
  const settings = {rejectCallMessage: values.rejectCallMessage.trim() || null};
  FLAGS.forEach((name) => { settings[name] = Boolean(values[name]); });
  // An empty limit field means "no limit" (null restores the default).
  LIMITS.forEach((name) => { settings[name] = values[name] === "" ? null : Number(values[name]); });
  const {session} = await api.patch(`/api/sessions/${seg(sessionId)}`, {description: values.description, settings});
  upsert(session);
  toast(`${session.sessionId}: settings saved.`);
}
