// The delivery log: filters, paging, attempt details in a dialog, single and bulk replay.

import {api, query, seg} from "./api.js";
import {badge, busy, byId, cell, debounce, el, formValues, formatTime, toast} from "./dom.js";

const PAGE = 50;
let offset = 0;
let shownId = null;
export const refreshSoon = debounce(() => refresh(), 500);

export function initDeliveries() {
  const filters = byId("delivery-filters");
  filters.addEventListener("change", () => {
    offset = 0;
    byId("bulk-replay").disabled = !filters.elements.endpointId.value;
    refresh();
  });
  filters.addEventListener("submit", (event) => event.preventDefault());
  byId("page-prev").addEventListener("click", () => page(-PAGE));
  byId("page-next").addEventListener("click", () => page(PAGE));
  byId("bulk-replay").addEventListener("click", (event) => busy(event.target, replayMatching));
  byId("dialog-replay").addEventListener("click", (event) => busy(event.target, () => replay(shownId)));
}

/** Reload the current page of the log with the current filters. */
export async function refresh() {
  const reply = await api.get(`/api/deliveries${query({...filterValues(), limit: PAGE, offset})}`);
  byId("delivery-rows").replaceChildren(...reply.deliveries.map(deliveryRow));
  const last = Math.min(offset + reply.deliveries.length, reply.total);
  byId("delivery-total").textContent = reply.total ? `${offset + 1}–${last} of ${reply.total}` : "No deliveries match.";
  byId("page-prev").disabled = offset === 0;
  byId("page-next").disabled = offset + PAGE >= reply.total;
}

function page(step) {
  offset = Math.max(0, offset + step);
  busy(byId("delivery-rows"), refresh);
}

/** The filter form as API parameters (datetime-local inputs are local time: send ISO). */
function filterValues() {
  const values = formValues(byId("delivery-filters"));
  for (const name of ["since", "until"]) values[name] = values[name] && new Date(values[name]).toISOString();
  return values;
}

function deliveryRow(delivery) {
  return el("tr", {dataset: {deliveryId: delivery.id}},
    cell("Created", formatTime(delivery.createdAt)),
    cell("Event", delivery.eventType),
    cell("Session", delivery.sessionId || "—"),
    cell("Endpoint", el("span", {class: "url"}, delivery.url)),
    cell("Status", badge(delivery.status)),
    cell("Attempts", String(delivery.attempts)),
    cell("Last result", el("span", {class: "small"}, lastResult(delivery))),
    el("td", {class: "row-actions"},
      el("button", {type: "button", class: "ghost small", onclick: (e) => busy(e.target, () => showDetails(delivery.id))}, "Details"),
      el("button", {type: "button", class: "secondary small", onclick: (e) => busy(e.target, () => replay(delivery.id))}, "Replay")));
}

function lastResult(delivery) {
  const parts = [delivery.lastStatusCode && `HTTP ${delivery.lastStatusCode}`, delivery.lastError,
                 delivery.nextAttemptAt && ["pending", "failed"].includes(delivery.status) && `next ${formatTime(delivery.nextAttemptAt)}`];
  return parts.filter(Boolean).join(" · ") || "—";
}

async function showDetails(deliveryId) {
  const {delivery, event} = await api.get(`/api/deliveries/${seg(deliveryId)}`);
  shownId = deliveryId;
  byId("dialog-title").textContent = `Delivery ${delivery.id}`;
  const facts = [["Status", badge(delivery.status)], ["Endpoint", delivery.url], ["Event", `${delivery.eventType} (${delivery.eventId})`],
                 ["Created", formatTime(delivery.createdAt)], ["Delivered", formatTime(delivery.deliveredAt)],
                 ["Next attempt", formatTime(delivery.nextAttemptAt)]];
  byId("dialog-facts").replaceChildren(...facts.flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
  byId("attempt-rows").replaceChildren(...(delivery.attemptLog || []).map(attemptRow));
  byId("dialog-event").textContent = JSON.stringify(event, null, 2);
  const dialog = byId("delivery-dialog");
  if (!dialog.open) dialog.showModal();
}

function attemptRow(attempt) {
  const latency = attempt.latencyMs === null || attempt.latencyMs === undefined ? "—" : `${Math.round(attempt.latencyMs)} ms`;
  return el("tr", {},
    cell("At", formatTime(attempt.at)),
    cell("Status", attempt.statusCode ? String(attempt.statusCode) : "—"),
    cell("Latency", latency),
    cell("Result", el("span", {class: "small"}, [attempt.error, attempt.response].filter(Boolean).join(" · ") || "—")));
}

async function replay(deliveryId) {
  const {delivery} = await api.post(`/api/deliveries/${seg(deliveryId)}/replay`);
  toast(`Replay queued: ${delivery.status}.`);
  await refresh();
  if (byId("delivery-dialog").open) await showDetails(delivery.id);
}

/** Bulk replay: every delivery of the chosen endpoint in the time range (default: the last 24 h). */
async function replayMatching() {
  const values = filterValues();
  const until = values.until || new Date().toISOString();
  const since = values.since || new Date(Date.now() - 86400000).toISOString();
  const what = `${values.status || "all"} deliveries of the chosen endpoint between ${formatTime(since)} and ${formatTime(until)}`;
  if (!window.confirm(`Replay ${what}?`)) return;
  const {count} = await api.post("/api/deliveries/replay", {endpointId: values.endpointId, status: values.status || undefined, since, until});
  toast(`Queued again: ${count} deliveries.`);
  await refresh();
}
