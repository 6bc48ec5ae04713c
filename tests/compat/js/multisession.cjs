// The multi-session production API: its key in API_KEY; web clients follow sessions with
// socket.io-client (auth: {apiKey}, then "subscribe"), over WebSocket or long-polling.
// Env: HUB_URL, API_KEY.
"use strict";
const {io} = require("socket.io-client");
const {api, phone, expectStatus, waitFor, run, assert} = require("./lib.cjs");

/** A connected socket that records every event it gets (name, envelope). */
function follow(options) {
  const socket = io(process.env.HUB_URL, {reconnection: false, timeout: 10000, ...options});
  const events = [];
  socket.onAny((name, data) => events.push([name, data]));
  return new Promise((resolve, reject) => {
    socket.on("connect", () => resolve({socket, events}));
    socket.on("connect_error", reject);
  });
}

function refusal(options) {
  const socket = io(process.env.HUB_URL, {reconnection: false, timeout: 10000, ...options});
  return new Promise((resolve, reject) => {
    socket.on("connect", () => reject(new Error("connected without a valid key")));
    socket.on("connect_error", (error) => { socket.close(); resolve({message: error.message, data: error.data}); });
  });
}

const named = (events, name) => events.filter(([event]) => event === name).map(([, data]) => data);

run(async () => {
  const http = api({"X-API-Key": process.env.API_KEY});
  const wrongKey = await refusal({auth: {apiKey: "not-the-key"}, transports: ["websocket"]});
  const noKey = await refusal({transports: ["polling"]});
  assert.deepEqual(wrongKey.data, {success: false, error: "forbidden", message: wrongKey.message});
  assert.equal(noKey.data.error, "unauthorized");

  const websocket = await follow({auth: {apiKey: process.env.API_KEY}, transports: ["websocket"]});
  const polling = await follow({query: {apiKey: process.env.API_KEY}, transports: ["polling"]});
  const unknown = await websocket.socket.emitWithAck("subscribe", {sessionId: "tienda"});
  assert.equal(unknown.error, "session_not_found");
  await waitFor(() => named(websocket.events, "error").length === 1, "the error event");
  assert.equal(websocket.socket.connected, true);

  expectStatus(await http.post("/api/start-session", {sessionId: "tienda"}), 200);
  assert.deepEqual(await websocket.socket.emitWithAck("subscribe", {sessionId: "tienda"}),
                   {success: true, sessionId: "tienda"});
  await polling.socket.emitWithAck("subscribe");
  await phone(http).scan("tienda");
  const written = await phone(http).writes("tienda", {from: "51987654321", text: "hola tienda"});
  const sent = expectStatus(await http.post("/api/send/tienda", {to: "51987654321", message: "Hola, ¿en qué le ayudo?"}), 200);
  for (const client of [websocket, polling]) {
    await waitFor(() => named(client.events, "message-sent").length === 1, "message-sent on every client");
  }
  websocket.socket.close();
  polling.socket.close();
  const report = (client) => ({
    statuses: named(client.events, "session-status").map((envelope) => envelope.data.status),
    received: named(client.events, "message-received").map((envelope) => [envelope.sessionId, envelope.data.messageId]),
    sent: named(client.events, "message-sent").map((envelope) => envelope.data.messageId),
  });
  return {writtenMessageId: written.messageId, sentMessageId: sent.messageId,
          websocket: report(websocket), polling: report(polling)};
});
