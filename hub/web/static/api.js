// The hub's HTTP API with the key the user entered. The key lives in sessionStorage only:
// it is never part of the page, and it is forgotten when the tab closes.

const KEY_NAME = "hub.apiKey";
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The hub answered ${status}.`);
    this.status = status;
    this.code = body?.error || "http_error";
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_NAME),
  set: (key) => sessionStorage.setItem(KEY_NAME, key),
  clear: () => sessionStorage.removeItem(KEY_NAME),
};

/** What to do when the hub rejects the stored key (back to the login screen). */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

/** fetch() with the key; returns the parsed JSON body or throws ApiError with the hub's message. */
export async function request(method, path, body, key = apiKey.get()) {
  const headers = {"X-API-Key": key || "", Accept: "application/json"};
  const init = {method, headers};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await send(path, init);
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw rejected(response.status, payload);
  return payload;
}

/** GET an image (the QR) with the key, as an object URL the caller must revoke. */
export async function imageUrl(path) {
  const response = await send(path, {headers: {"X-API-Key": apiKey.get() || ""}});
  if (!response.ok) throw rejected(response.status, await response.json().catch(() => null));
  return URL.createObjectURL(await response.blob());
}

async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, {error: "network", message: "Cannot reach the hub. Is it running?"});
  }
}

function rejected(status, payload) {
  const error = new ApiError(status, payload);
  // Other 403s exist (sandbox disabled, blocked URL); only the key check talks about the API key.
  if ((status === 401 || status === 403) && /API key/i.test(error.message)) onUnauthorized(error);
  return error;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body = {}) => request("POST", path, body),
  patch: (path, body = {}) => request("PATCH", path, body),
  del: (path) => request("DELETE", path),
};

/** "?a=1&b=x" from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A path segment from user input (session ids, delivery ids). */
export const seg = (value) => encodeURIComponent(value);

/** ws(s)://<this host>/ws/events?ticket=...: browsers cannot set headers on a WebSocket, and a
 * single-use ticket keeps the API key out of URLs (and so out of proxy access logs). */
export async function eventsSocketUrl() {
  const {ticket} = await api.post("/api/ws-ticket");
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/events${query({ticket})}`;
}
