// The shared WhatsApp client: bots register a callback with {url} (no events), send with just
// {to, message} (no sessionId) and check /api/whatsapp/status for state === "CONNECTED".
// The callback here is a real HTTP server in this process. Env: HUB_URL, HUB_KEY.
"use strict";
const http = require("node:http");
const {api, phone, expectStatus, waitFor, run, assert} = require("./lib.cjs");

function callbackServer() {
  const received = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => { body += chunk; });
    request.on("end", () => {
      received.push(JSON.parse(body));
      response.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({server, received})));
}

run(async () => {
  const hub = api({"X-API-Key": process.env.HUB_KEY});
  const {server, received} = await callbackServer();
  const url = `http://127.0.0.1:${server.address().port}/whatsapp`;
  const registered = expectStatus(await hub.post("/api/whatsapp/register-listener", {url}), 201);
  assert.deepEqual(registered.listener.events, ["message-received"]);
  const status = expectStatus(await hub.get("/api/whatsapp/status"), 200);
  assert.equal(status.state, "CONNECTED");
  const sent = expectStatus(await hub.post("/api/whatsapp/send", {to: "51987654321", message: "Pedido listo"}), 200);
  assert.equal(sent.success, true);
  const written = await phone(hub).writes("principal", {from: "51987654321", text: "gracias"});
  await waitFor(() => received.length >= 1, "the callback");
  await new Promise((resolve) => setTimeout(resolve, 2500));  // receipts and statuses would have arrived by now
  const removed = expectStatus(await hub.post("/api/whatsapp/unregister-listener", {url}), 200);
  assert.equal(removed.removed, 1);
  server.close();
  return {sentMessageId: sent.messageId, writtenMessageId: written.messageId,
          received: received.map((event) => [event.type, event.data.messageId])};
});
