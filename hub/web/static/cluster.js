// The "Cluster" view (PostgreSQL only): the hub processes, their heartbeats and the sessions each holds.

import {api} from "./api.js";
import {byId, cell, el, formatTime} from "./dom.js";

/** Reload GET /api/cluster into the table (the periodic refresh keeps the heartbeats current). */
export async function refreshView() {
  const cluster = await api.get("/api/cluster");
  byId("cluster-rows").replaceChildren(...cluster.nodes.map((node) => nodeRow(node, cluster.nodeId)));
  const live = cluster.nodes.filter((node) => node.live).length;
  byId("cluster-summary").textContent =
    `${live} of ${cluster.nodes.length} processes live · lease ${cluster.leaseTtlSeconds} s · this page from ${cluster.nodeId}`;
  const unheld = byId("cluster-unheld");
  unheld.textContent = `Not held by any process (waiting for one): ${cluster.unheld.join(", ")}`;
  unheld.hidden = cluster.unheld.length === 0;
}

function nodeRow(node, servedBy) {
  return el("tr", {"data-node": node.nodeId, "data-live": String(node.live)},
    cell("Process", el("code", {}, node.nodeId), node.nodeId === servedBy ? el("span", {class: "muted small"}, " (this page)") : null),
    cell("Host", node.host),
    cell("PID", String(node.pid)),
    cell("Started", formatTime(node.startedAt)),
    cell("Heartbeat", el("span", {class: node.live ? null : "bad"}, formatTime(node.heartbeatAt), node.live ? null : " (not live)")),
    cell("Sessions held", node.sessions.length ? `${node.sessions.length}: ${node.sessions.join(", ")}` : "none"));
}
