// Listeners and webhooks: the selected session's webhooks, every endpoint with its health, the chart.

import {api, query, seg} from "./api.js";
import {badge, busy, byId, cell, debounce, el, fillSelects, formatTime, onSubmit, toast} from "./dom.js";
import {drawChart} from "./chart.js";

let sessionId = null;
export const refreshSoon = debounce(() => refreshView(), 500);

export function initEndpoints() {
  onSubmit(byId("webhook-form"), addWebhook);
  onSubmit(byId("listener-form"), registerListener);
  byId("endpoints-refresh").addEventListener("click", (event) => busy(event.target, refreshView));
}

/** The session panel shows this session's webhooks. */
export function showFor(session) {
  sessionId = session?.sessionId ?? null;
  byId("webhook-secret").hidden = true;
  byId("webhook-list").replaceChildren();
  if (sessionId) busy(byId("webhook-list"), loadSessionWebhooks);
}

/** The "Listeners & webhooks" view: health table and chart. */
export async function refreshView() {
  const [endpoints, stats] = await Promise.all([loadEndpoints(), api.get(`/api/deliveries/stats${query({minutes: 60})}`)]);
  byId("endpoint-rows").replaceChildren(...endpoints.map(endpointRow));
  byId("no-endpoints").hidden = endpoints.length > 0;
  drawChart(byId("chart"), stats.buckets, 60);
}

/** Every listener and webhook (webhooks are listed per session); also fills the endpoint filters. */
export async function loadEndpoints() {
  const {sessions} = await api.get("/api/sessions");
  const replies = await Promise.all([api.get("/api/whatsapp/listeners"),
    ...sessions.map((session) => api.get(`/api/${seg(session.sessionId)}/webhook`))]);
  const endpoints = replies.flatMap((reply) => reply.listeners || reply.webhooks || []);
  fillSelects("select[data-endpoints]", endpoints.map((endpoint) => [endpoint.id, `${endpoint.kind}: ${endpoint.url}`]));
  return endpoints;
}

/** The selected session's webhooks with their health. */
export async function loadSessionWebhooks() {
  const shown = sessionId;
  if (!shown) return;
  const {webhooks} = await api.get(`/api/${seg(shown)}/webhook`);
  if (shown !== sessionId) return;
  byId("webhook-list").replaceChildren(...webhooks.map(webhookItem));
}

function webhookItem(endpoint) {
  return el("li", {class: "endpoint"},
    el("div", {class: "endpoint-url"}, endpoint.url),
    el("div", {class: "muted small"}, `events: ${eventsText(endpoint)} · secret ${endpoint.secretHint || "set"}`),
    healthLine(endpoint),
    el("div", {class: "actions"},
      el("button", {type: "button", class: "secondary small", onclick: (e) => busy(e.target, testWebhooks)}, "Send test event"),
      rotateButton(endpoint),
      el("button", {type: "button", class: "danger small", onclick: (e) => busy(e.target, () => removeEndpoint(endpoint))}, "Remove")));
}

function endpointRow(endpoint) {
  const health = endpoint.health || {};
  const disabled = !endpoint.enabled && el("div", {class: "error small"}, `disabled: ${endpoint.disabledReason || "by the hub"}`);
  return el("tr", {},
    cell("Kind", endpoint.kind),
    cell("URL", el("div", {}, el("span", {class: "url"}, endpoint.url), disabled)),
    cell("Session", endpoint.sessionId || "all"),
    cell("Events", el("span", {class: "small"}, eventsText(endpoint))),
    cell("Last success", formatTime(health.lastSuccessAt)),
    cell("Failures", count(health.consecutiveFailures)),
    cell("Pending", count(health.pending)),
    cell("Dead", count(health.dead)),
    el("td", {}, rotateButton(endpoint),
      el("button", {type: "button", class: "danger small", onclick: (e) => busy(e.target, () => removeEndpoint(endpoint))}, "Remove")));
}

/** A health counter; anything above zero is drawn in red. */
const count = (value) => el("span", {class: value ? "bad" : null}, String(value ?? 0));

function healthLine(endpoint) {
  const health = endpoint.health || {};
  return el("div", {class: "health small"},
    endpoint.enabled ? badge(health.consecutiveFailures ? "failing" : "healthy") : badge("disabled"),
    ` last success ${formatTime(health.lastSuccessAt)} · ${health.consecutiveFailures ?? 0} failures in a row · `,
    `${health.pending ?? 0} pending · ${health.dead ?? 0} dead`);
}

const eventsText = (endpoint) => (endpoint.events?.length ? endpoint.events.join(", ") : "all");

async function addWebhook(values, form) {
  const body = {url: values.url, events: values.events, secret: values.secret || undefined};
  const {webhook} = await api.post(`/api/sessions/${seg(sessionId)}/webhooks`, body);
  form.reset();
  showSecret(byId("webhook-secret"), webhook);
  await loadSessionWebhooks();
}

async function registerListener(values, form) {
  const body = {callbackUrl: values.callbackUrl, events: values.events, sessionId: values.sessionId || undefined};
  const {listener} = await api.post("/api/whatsapp/register-listener", body);
  form.reset();
  showSecret(byId("listener-secret"), listener);
  await refreshView();
}

/** The signing secret is only returned when an endpoint is created or its secret rotated: show it once. */
function showSecret(output, endpoint) {
  output.textContent = endpoint.secret
    ? `Signing secret for ${endpoint.url} (copy it now, it is not shown again): ${endpoint.secret}`
    : `Updated ${endpoint.url}; its signing secret is unchanged (rotate it for a new one).`;
  output.hidden = false;
}

/** A new signing secret for the endpoint, shown once. */
async function rotateSecret(endpoint) {
  if (!window.confirm(`Replace the signing secret of ${endpoint.url}? Its receiver must switch to the new one.`)) return;
  const rotated = endpoint.kind === "listener"
    ? (await api.post(`/api/whatsapp/listeners/${seg(endpoint.id)}/rotate-secret`)).listener
    : (await api.post(`/api/${seg(endpoint.sessionId)}/webhook/${seg(endpoint.id)}/rotate-secret`)).webhook;
  showSecret(byId(endpoint.kind === "listener" ? "listener-secret" : "webhook-secret"), rotated);
}

const rotateButton = (endpoint) =>
  el("button", {type: "button", class: "secondary small", onclick: (e) => busy(e.target, () => rotateSecret(endpoint))}, "Rotate secret");

async function testWebhooks() {
  const {deliveries} = await api.post(`/api/${seg(sessionId)}/webhook/test`);
  toast(`Test event sent to ${deliveries} webhook(s).`);
}

async function removeEndpoint(endpoint) {
  if (!window.confirm(`Remove ${endpoint.kind} ${endpoint.url}?`)) return;
  if (endpoint.kind === "listener") await api.post("/api/whatsapp/unregister-listener", {callbackUrl: endpoint.url});
  else await api.del(`/api/${seg(endpoint.sessionId)}/webhook${query({id: endpoint.id})}`);
  toast(`Removed ${endpoint.url}.`);
  if (endpoint.sessionId === sessionId) await loadSessionWebhooks();
  if (!byId("view-endpoints").hidden) await refreshView();
}
