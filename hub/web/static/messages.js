// Recent messages of the selected session, newest first, with media previews.

import {api, query, seg} from "./api.js";
import {badge, busy, byId, debounce, el, formatTime, safeUrl} from "./dom.js";

let sessionId = null;
const refreshSoon = debounce(() => loadMessages(), 400);

export function initMessages() {
  byId("messages-refresh").addEventListener("click", (event) => busy(event.target, loadMessages));
}

export function showFor(session) {
  sessionId = session?.sessionId ?? null;
  byId("message-list").replaceChildren();
  if (sessionId) busy(byId("message-list"), loadMessages);
}

/** Message events of the shown session reload the list (debounced: receipts come in bursts). */
export function handleEvent(envelope) {
  if (envelope.sessionId === sessionId && envelope.type.startsWith("message-")) refreshSoon();
}

async function loadMessages() {
  if (!sessionId) return;
  const shown = sessionId;
  const {messages} = await api.get(`/api/messages/${seg(shown)}${query({limit: 30})}`);
  if (shown !== sessionId) return;
  byId("message-list").replaceChildren(...messages.map(messageItem));
  byId("no-messages").hidden = messages.length > 0;
}

function messageItem(message) {
  const incoming = message.direction === "in";
  const who = incoming ? `from ${message.from || message.chatId}` : `to ${message.to || message.chatId}`;
  return el("li", {class: `message ${incoming ? "in" : "out"}`},
    el("div", {class: "message-head"},
      el("span", {}, who), el("time", {datetime: message.timestamp}, formatTime(message.timestamp)),
      message.status && badge(message.status)),
    message.text && el("p", {class: "message-text"}, message.text),
    mediaPreview(message.media));
}

/** An <img>, <audio> or <video> for downloaded media, a link for documents, a note for failures. */
function mediaPreview(media) {
  if (!media) return null;
  const url = safeUrl(media.fileUrl);
  const name = media.originalName || media.fileName || "file";
  if (!url) return el("p", {class: "muted"}, media.error ? `Media not available: ${media.error}` : name);
  const kind = (media.mimetype || "").split("/")[0];
  if (kind === "image") return el("a", {href: url, target: "_blank", rel: "noopener"}, el("img", {src: url, alt: name, loading: "lazy", class: "media"}));
  if (kind === "audio") return el("audio", {src: url, controls: true, preload: "none", class: "media"});
  if (kind === "video") return el("video", {src: url, controls: true, preload: "metadata", class: "media"});
  return el("a", {href: url, target: "_blank", rel: "noopener", class: "file"}, `📎 ${name}`);
}
