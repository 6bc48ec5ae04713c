// The sandbox console: play the phone of a sandbox session (scan, receive a message, remote logout) and its
// customers' actions on messages (react, edit, delete, read).

import {api, seg} from "./api.js";
import {busy, byId, onSubmit, toast} from "./dom.js";

let sessionId = null;

export function initSandbox() {
  const card = byId("sandbox-card");
  card.querySelector('[data-sandbox="scan"]').addEventListener("click", (event) =>
    busy(event.target, () => phone("scan", "QR scanned: the session is linking.")));
  card.querySelector('[data-sandbox="logout"]').addEventListener("click", (event) =>
    busy(event.target, () => phone("logout", "The phone removed this device.")));
  onSubmit(byId("inbound-form"), sendInbound);
  onSubmit(byId("phone-action-form"), phoneAction);
}

/** The console follows the selected session (it is hidden for non-sandbox sessions). */
export function showFor(session) {
  sessionId = session?.sandbox ? session.sessionId : null;
}

async function phone(action, done) {
  await api.post(`/api/sandbox/${seg(sessionId)}/${action}`);
  toast(done);
}

async function sendInbound(values, form) {
  const body = {from: values.from, pushName: values.pushName};
  if (values.text.trim()) body.text = values.text;
  if (values.file?.size) body.media = await mediaOf(values.file);
  const {messageId} = await api.post(`/api/sandbox/${seg(sessionId)}/inbound`, body);
  form.elements.text.value = "";
  form.elements.file.value = "";
  toast(`Message ${messageId} received.`);
}

/** The customer reacts to, edits, deletes or reads a message (POST /api/sandbox/<id>/{react,edit,revoke,read}). */
async function phoneAction(values, form) {
  const {action, from, messageId, value} = values;
  const bodies = {react: {from, messageId, emoji: value}, edit: {from, messageId, text: value},
                  revoke: {from, messageId}, read: {from, messageIds: [messageId]}};
  await api.post(`/api/sandbox/${seg(sessionId)}/${action}`, bodies[action]);
  form.elements.value.value = "";
  toast(`Done: ${action} on ${messageId}.`);
}

/** A File as the sandbox's media object (base64 data URL). */
function mediaOf(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({base64: reader.result, mimetype: file.type || "application/octet-stream",
                                   filename: file.name});
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
}
