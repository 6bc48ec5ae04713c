// Small DOM helpers. Text always goes in through text nodes / textContent, never innerHTML,
// so whatever a user or a WhatsApp contact typed is displayed, not interpreted.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an element: el("td", {class: "x", onclick: fn}, "text", child, ...). */
export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

/** Same as el() for SVG elements (charts). */
export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** A table cell that names its column (phones show table rows as cards). */
export function cell(label, ...children) {
  return el("td", {"data-label": label}, ...children);
}

/** The element with this id (throws early when a template and a script disagree). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/** Only http(s) URLs may become a link or a media source (no javascript: or data: from the API). */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** "12:04:31" today, "3 Mar 12:04" otherwise; "—" when missing. */
export function formatTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], {hour12: false})
    : date.toLocaleString([], {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false});
}

/** A status word as a coloured badge (the colour comes from CSS on data-status). */
export function badge(status) {
  return el("span", {class: "badge", "data-status": status}, status);
}

/** The values of a form as an object; checkbox groups become arrays. */
export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (form.elements[name] instanceof RadioNodeList) (values[name] ||= []).push(value);
    else values[name] = value;
  }
  return values;
}

/** Show a short message in the corner; errors stay longer. */
export function toast(message, kind = "info") {
  const note = el("div", {class: `toast ${kind}`, role: kind === "error" ? "alert" : "status"}, message);
  const box = byId("toasts");
  while (box.children.length >= 3) box.firstChild.remove();  // a burst of actions must not cover the page
  box.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 3500);
}

/** Run fn once, `ms` after the last call of a burst (live events come in bursts). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Run fn while `container` is inert (no double submits); a failure becomes an error toast. */
export async function busy(container, fn) {
  container.inert = true;
  container.setAttribute("aria-busy", "true");
  try {
    return await fn();
  } catch (error) {
    toast(error.message, "error");
    return undefined;
  } finally {
    container.inert = false;
    container.removeAttribute("aria-busy");
  }
}

/** Handle a form's submit in place: fn(values, form) runs busy (see busy()). */
export function onSubmit(form, fn) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, () => fn(formValues(form), form));
  });
}

/** Fill every <select> matching `selector` with options, keeping the first ("any") and the choice. */
export function fillSelects(selector, options) {
  for (const select of document.querySelectorAll(selector)) {
    if (hasOptions(select, options)) continue;  // replacing them would close a dropdown being used
    const chosen = select.value;
    const first = select.options[0];
    select.replaceChildren(first, ...options.map(([value, label]) => el("option", {value}, label)));
    select.value = options.some(([value]) => value === chosen) ? chosen : "";
  }
}

function hasOptions(select, options) {
  const current = [...select.options].slice(1);
  return current.length === options.length &&
    options.every(([value, label], i) => current[i].value === value && current[i].text === label);
}
