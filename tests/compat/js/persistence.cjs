// The session-persistence update: its clients poll /api/status/<id> (also for ids that do not
// exist yet), connect with GET /api/connect/<id>, show /api/qr/<id>, and expect a linked session to
// come back by itself after a restart. PHASE=link (before the restart) or PHASE=after.
// Env: HUB_URL, HUB_KEY, PHASE.
"use strict";
const {api, phone, expectStatus, waitFor, run, assert} = require("./lib.cjs");

async function link(http) {
  const unknown = expectStatus(await http.get("/api/status/ventas"), 200);
  assert.equal(unknown.connected, false);
  const connecting = expectStatus(await http.get("/api/connect/ventas"), 200);
  assert.equal(connecting.sessionId, "ventas");
  const qr = await waitFor(async () => (await http.get("/api/qr/ventas")).data.qr, "a QR code");
  assert.match(qr, /^2@/);
  await phone(http).scan("ventas");
  const status = expectStatus(await http.get("/api/status/ventas"), 200);
  assert.equal(status.connected, true);
  assert.equal(status.session_exists_on_disk, true);
  assert.equal(status.auto_reconnecting, false);
  const sessions = expectStatus(await http.get("/api/sessions"), 200).sessions;
  assert.deepEqual(sessions.map((s) => [s.sessionId, s.connected]), [["ventas", true]]);
  return {linked: true};
}

async function after(http) {
  const status = await waitFor(async () => {
    const answer = expectStatus(await http.get("/api/status/ventas"), 200);
    return answer.connected && answer;
  }, "ventas to reconnect after the restart", 20000);
  assert.equal(status.session_exists_on_disk, true);
  const deleted = expectStatus(await http.delete("/api/delete/ventas"), 200);
  assert.equal(deleted.success, true);
  const gone = expectStatus(await http.get("/api/status/ventas"), 200);
  assert.equal(gone.connected, false);
  return {reconnected: true, deleted: true};
}

run(async () => {
  const http = api({"x-api-key": process.env.HUB_KEY});
  return process.env.PHASE === "after" ? after(http) : link(http);
});
