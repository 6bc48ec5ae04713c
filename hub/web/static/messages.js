// Recent messages of the selected session, newest first, with media previews, quotes, reactions, edits and deletions.

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
  // A reaction shows on the message it reacts to (its `reactions`), not as a message of its own.
  const shownMessages = messages.filter((message) => message.type !== "reaction");
  const byMessageId = new Map(messages.map((message) => [message.messageId, message]));
  byId("message-list").replaceChildren(...shownMessages.map((message) => messageItem(message, byMessageId)));
  byId("no-messages").hidden = shownMessages.length > 0;
}

function messageItem(message, byMessageId) {
  const incoming = message.direction === "in";
  const who = incoming ? `from ${message.from || message.chatId}` : `to ${message.to || message.chatId}`;
  return el("li", {class: `message ${incoming ? "in" : "out"}${message.revoked ? " revoked" : ""}`,
                   "data-message-id": message.messageId || ""},
    el("div", {class: "message-head"},
      el("span", {}, who), el("time", {datetime: message.timestamp}, formatTime(message.timestamp)),
      message.status && badge(message.status), message.edited && el("span", {class: "tag edited"}, "edited")),
    quote(message.quotedId, byMessageId),
    message.revoked ? el("p", {class: "message-text muted"}, "🚫 Deleted for everyone") :
      message.text && el("p", {class: "message-text"}, message.text),
    message.edited && !message.revoked && el("p", {class: "muted small original"}, `Before the edit: ${message.originalText ?? ""}`),
    mediaPreview(message.media),
    reactions(message.reactions));
}

/** The quoted message (its text when the list has it, else its id). */
function quote(quotedId, byMessageId) {
  if (!quotedId) return null;
  const quoted = byMessageId.get(quotedId);
  return el("blockquote", {class: "quote"}, quoted?.text || `message ${quotedId}`);
}

function reactions(list) {
  if (!list?.length) return null;
  return el("div", {class: "reactions"}, ...list.map((reaction) => el("span", {class: "reaction", title: reaction.from}, reaction.emoji)));
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
