// Shared by the seed clients: an axios instance as each service configured it, the sandbox
// "phone" (what a person does with the phone: scan the QR, write to the number), and checks.
// Every script reads HUB_URL (and its token variables) from the environment, prints one JSON
// object with what it saw on stdout, and exits non-zero when an answer is not what its
// service's clients expect (node:assert names the step).
"use strict";
const assert = require("node:assert/strict");
const axios = require("axios");

/** An axios client like the older services' callers built it: base URL, headers, no throw on 4xx. */
function api(headers = {}) {
  return axios.create({baseURL: process.env.HUB_URL, headers, timeout: 20000, validateStatus: () => true});
}

/** The sandbox phone: not part of any client, it plays the person holding the phone. */
function phone(http) {
  return {
    scan: async (sessionId) => expectStatus(await http.post(`/api/sandbox/${sessionId}/scan`, {}), 200),
    writes: async (sessionId, body) => (await http.post(`/api/sandbox/${sessionId}/inbound`, body)).data,
    sent: async (sessionId) => (await http.get(`/api/sandbox/${sessionId}/sent`)).data.messages,
  };
}

function expectStatus(response, status) {
  assert.equal(response.status, status, `${response.config.method.toUpperCase()} ${response.config.url}: ` +
    `expected ${status}, got ${response.status} ${JSON.stringify(response.data)}`);
  return response.data;
}

async function waitFor(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Run the script's main(); print its report as JSON; exit 1 with the reason on failure. */
function run(main) {
  main().then((report) => {
    process.stdout.write(JSON.stringify(report || {}) + "\n");
    process.exit(0);
  }, (error) => {
    process.stderr.write((error && error.stack) || String(error));
    process.stderr.write("\n");
    process.exit(1);
  });
}

module.exports = {api, phone, expectStatus, waitFor, run, assert};
