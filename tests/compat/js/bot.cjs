// The multi-session bot microservice: one number per bot, its token in API_STATIC_TOKEN sent as
// "Authorization: Bearer", sends with {sessionId, number, text} and media as a data URL, reads
// the conversation back from /api/messages/<id>.
// Env: HUB_URL, API_STATIC_TOKEN.
"use strict";
const {api, phone, expectStatus, run, assert} = require("./lib.cjs");

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDAAAANBAEIfXHKZgAAAABJRU5ErkJggg==";  // a real 2x2 PNG (the hub reads images before queueing them)

run(async () => {
  const http = api({Authorization: `Bearer ${process.env.API_STATIC_TOKEN}`});
  const refused = await api({Authorization: "Bearer not-the-token"}).get("/api/sessions");
  assert.equal(refused.status, 403);
  assert.equal(refused.data.success, false);
  for (const sessionId of ["bot_ventas", "bot_soporte"]) {
    expectStatus(await http.post("/api/start-session", {sessionId}), 200);
    await phone(http).scan(sessionId);
  }
  const text = expectStatus(await http.post("/api/send-message", {
    sessionId: "bot_ventas", number: "51987654321", text: "Hola, soy el bot de ventas"}), 200);
  assert.equal(text.success, true);
  const media = expectStatus(await http.post("/api/send-media", {
    sessionId: "bot_soporte", to: "51987654321", media: `data:image/png;base64,${PNG}`, caption: "Captura"}), 200);
  await phone(http).writes("bot_ventas", {from: "51987654321", text: "quiero el catálogo"});
  const history = expectStatus(await http.get("/api/messages/bot_ventas"), 200).messages;
  return {textMessageId: text.messageId, mediaMessageId: media.messageId,
          history: history.map((m) => [m.direction, m.text])};
});
