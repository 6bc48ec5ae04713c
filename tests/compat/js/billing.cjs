// The Baileys API for billing: the invoicing system links a number, points the session's webhook
// at its CRM, and sends receipts as PDFs (send-pdf without fileName: "Comprobante.pdf").
// Env: HUB_URL, HUB_KEY, CRM_OLD_URL, CRM_URL.
"use strict";
const {api, phone, expectStatus, waitFor, run, assert} = require("./lib.cjs");

const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").toString("base64");

run(async () => {
  const http = api({"x-api-key": process.env.HUB_KEY});
  const started = expectStatus(await http.post("/api/start-session", {sessionId: "facturacion"}), 200);
  assert.equal(started.success, true);
  assert.equal(started.state, "UNPAIRED");
  const qr = expectStatus(await http.get("/api/qr/facturacion"), 200);
  assert.match(qr.qr, /^2@/);
  assert.match(qr.qrImage, /^data:image\/png;base64,/);
  await phone(http).scan("facturacion");
  const status = expectStatus(await http.get("/api/status/facturacion"), 200);
  assert.equal(status.connected, true);
  assert.equal(status.state, "CONNECTED");

  // The CRM's first URL, then its new one: the second POST moves the webhook.
  const webhookEvents = ["message-received", "message-from-me"];
  expectStatus(await http.post("/api/facturacion/webhook", {url: process.env.CRM_OLD_URL, events: webhookEvents}), 201);
  await phone(http).writes("facturacion", {from: "51987654321", text: "hola, ¿mi boleta?"});
  expectStatus(await http.post("/api/facturacion/webhook", {url: process.env.CRM_URL, events: webhookEvents}), 201);
  const webhooks = expectStatus(await http.get("/api/facturacion/webhook"), 200).webhooks;
  assert.deepEqual(webhooks.map((w) => w.url), [process.env.CRM_URL]);

  const pdf = expectStatus(await http.post("/api/send-pdf", {sessionId: "facturacion", to: "51987654321", pdfBase64: PDF}), 202);
  assert.equal(pdf.success, true);
  assert.match(pdf.message, /Comprobante\.pdf/);
  // send-pdf queues; a send right behind a queued one is queued too (202): the billing run waits for it.
  await waitFor(async () => (await phone(http).sent("facturacion")).length >= 1);
  const text = expectStatus(await http.post("/api/send/facturacion", {to: "51987654321", message: "Gracias por su compra"}), 200);
  const document = expectStatus(await http.post("/api/send-document/facturacion", {
    to: "51987654321", documentData: `data:application/pdf;base64,${PDF}`, filename: "F001-881.pdf",
    message: "Su factura"}), 200);
  await phone(http).writes("facturacion", {from: "51987654321", text: "recibido"});
  const sent = await waitFor(async () => {
    const messages = await phone(http).sent("facturacion");
    return messages.length === 3 && messages;
  }, "the three sends");
  return {pdfId: pdf.id, textMessageId: text.messageId, documentMessageId: document.messageId,
          sentFileNames: sent.map((message) => message.filename || null)};
});
