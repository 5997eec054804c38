// What the ordering page, the staff board and the merchant portal share: the API client (problems as
// people read them, retries that reuse the idempotency key), money as German customers read it, the
// language switch and a small DOM helper. No framework: a few pages do not need one, and the first
// load stays small.

const config = window.TRESEN_CONFIG || {};
export const API = {
  customer: config.customerApi || "",
  staff: config.staffApi || "",
  exports: config.exportsApi || "",
};
export const FIREBASE = config.firebase || null;

// A dropped connection at peak time is retried with the same key, so the server answers the repeat
// with the first response instead of doing the work twice. The delays add up to about 7 s.
const RETRY_DELAYS_MS = [400, 1000, 2000, 4000];
const LONGEST_WAIT_MS = 5000;
const TIMEOUT_MS = 15000;

/** An RFC 9457 problem the API answered with: `title`/`detail` for people, `code` for the page. */
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.title = body.title || "";
    this.detail = body.detail || "";
    this.errors = Array.isArray(body.errors) ? body.errors : [];
  }
}

/** The request never got an answer, even after the retries. */
export class Unreachable extends Error {}

/** One attempt at something that moves money: its key is made once and reused by every retry,
 * and a second click while it is under way joins the first instead of starting another. */
export class Attempt {
  constructor() {
    this.key = crypto.randomUUID();
    this.running = null;
  }
  run(work) {
    if (!this.running) {
      this.running = work(this.key).finally(() => (this.running = null));
    }
    return this.running;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryDelay(response, attempt) {
  const seconds = Number(response?.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, LONGEST_WAIT_MS) : RETRY_DELAYS_MS[attempt];
}

function waitsAndRetries(response, problem) {
  return response.status === 503 || problem.code === "idempotency_in_progress";
}

/**
 * Calls the API. GETs, and POSTs that carry an idempotency key, are retried after a network failure
 * and after a 503 or "still in progress" answer; anything else is never repeated blindly.
 * Resolves with the JSON body (null for 204; a Blob with `as: "blob"`, the Response itself with
 * `as: "response"`); rejects with a Problem or Unreachable.
 */
export async function call(base, path, { method = "GET", body, headers = {}, idempotencyKey, as = "json", onRetry } = {}) {
  const init = { method, headers: { Accept: "application/json, application/problem+json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
  const retryable = method === "GET" || Boolean(idempotencyKey);
  for (let attempt = 0; ; attempt++) {
    const last = !retryable || attempt >= RETRY_DELAYS_MS.length;
    let response;
    try {
      response = await fetch(base + path, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      if (last) throw new Unreachable(String(error));
      onRetry?.(attempt + 1);
      await sleep(RETRY_DELAYS_MS[attempt]);
      continue;
    }
    if (response.ok) {
      if (response.status === 204) return null;
      return { json: () => response.json(), blob: () => response.blob(), response: () => response }[as]();
    }
    const problem = new Problem(response.status, await response.json().catch(() => ({})));
    if (last || !waitsAndRetries(response, problem)) throw problem;
    onRetry?.(attempt + 1);
    await sleep(retryDelay(response, attempt));
  }
}

// ---- language ------------------------------------------------------------------------------------

/** German first; English when chosen (remembered on this device). */
export function makeTranslator(strings) {
  let lang = localStorage.getItem("tresen.lang") === "en" ? "en" : "de";
  const t = (key, values = {}) =>
    (strings[lang][key] ?? strings.de[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  t.has = (key) => key in strings[lang] || key in strings.de;
  t.lang = () => lang;
  t.toggle = () => {
    lang = lang === "de" ? "en" : "de";
    localStorage.setItem("tresen.lang", lang);
  };
  return t;
}

/** Fills every element marked data-t (text), data-t-label (aria-label) or data-t-placeholder. */
export function translateStatic(t, root = document) {
  document.documentElement.lang = t.lang();
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}

// ---- money and time ------------------------------------------------------------------------------

/** Cents as German customers read prices: "4,30 €" (English: "€4.30"). Display only; the API counts. */
export function money(cents, currency, lang) {
  return new Intl.NumberFormat(lang === "en" ? "en-IE" : "de-DE", { style: "currency", currency }).format(cents / 100);
}

/** "4,30" or "4.30" or "4" typed by a person → cents, or null when it is not an amount. */
export function parseCents(text) {
  const match = String(text).trim().match(/^(\d{1,6})(?:[.,](\d{1,2}))?$/);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
}

export function time(iso, lang) {
  return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "de-DE", { dateStyle: "short", timeStyle: "short" });
}

// ---- DOM -----------------------------------------------------------------------------------------

/** h("button", {class: "x", onclick: f}, "text", child…): attributes, listeners and children. */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  return fill(el, ...children);
}

/** Replaces an element's children; null, undefined and false (a condition that did not hold) are left out. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return el;
}

/** A failed call in an alert box, as people read it: the page's own words for the problem's code
 * (its i18n table's "problem.<code>"), else the problem's title and detail, or "no connection". */
export function showAlert(alertBox, error, t) {
  if (error instanceof Unreachable) {
    fill(alertBox, h("strong", {}, t("offline_title")), " ", t("offline_detail"));
  } else if (error instanceof Problem && t.has(`problem.${error.code}`)) {
    fill(alertBox, h("strong", {}, t(`problem.${error.code}`)));
  } else if (error instanceof Problem) {
    fill(alertBox, h("strong", {}, error.title || t("error_title")), " ", error.detail);
  } else {
    alertBox.textContent = String(error);
  }
  alertBox.hidden = false;
}

/**
 * Shows a failed call of a form where a person looks: the alert (focused), and each field error
 * beside its field (inputs carry data-field="customer.email" etc.).
 */
export function showProblem(form, alertBox, error, t) {
  clearProblem(form, alertBox);
  showAlert(alertBox, error, t);
  for (const { field, message } of error instanceof Problem ? error.errors : []) {
    const input = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (!input) continue;
    const text = t.has(`field.${field}`) ? t(`field.${field}`) : message;
    const note = h("span", { class: "field-error", id: `err-${field.replace(/\W/g, "-")}` }, text);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", note.id);
    input.insertAdjacentElement("afterend", note);
  }
  alertBox.focus();
}

export function clearProblem(form, alertBox) {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
  alertBox.hidden = true;
  alertBox.replaceChildren();
}

// ---- live updates --------------------------------------------------------------------------------

// A stream sends a comment every 15 s; silence for longer than this means the connection died quietly.
const STREAM_SILENCE_MS = 40000;
const STREAM_BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 20000, 30000];

/** Splits server-sent event text into events: {event, id, data}; comments (": keep-alive") are skipped. */
export function parseEvents(block) {
  const event = { event: "message", id: null, data: "" };
  let fields = 0;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") event.event = value;
    else if (name === "id") event.id = value;
    else if (name === "data") event.data += (event.data ? "\n" : "") + value;
    else continue;
    fields++;
  }
  return fields ? event : null;
}

/**
 * Follows a server-sent event stream of the API, read with fetch() (EventSource sends no headers, and
 * a token never goes into a URL). `path()` and `headers()` are asked before each connection (the
 * board resumes from its last event, a token may have been renewed). Every event goes to
 * `onEvent({event, id, data})` with `data` parsed; when a stream ends (each lasts a few minutes) the
 * next opens at once; when one fails, `onDown(error)` is told and the next is tried with growing
 * waits. A problem the API answered that no retry would fix (4xx but 429) goes to `onRefused`,
 * which answers whether to go on. Answers a function that stops it all.
 */
export function followStream(base, { path, headers, onEvent, onDown, onRefused }) {
  let stopped = false;
  let connection = null;
  const run = async () => {
    for (let failures = 0; !stopped; ) {
      connection = new AbortController();
      let silence = setTimeout(() => connection.abort(), STREAM_SILENCE_MS);
      try {
        const response = await fetch(base + path(), {
          headers: { Accept: "text/event-stream, application/problem+json", ...(await headers()) },
          cache: "no-store", signal: connection.signal,
        });
        if (!response.ok) throw new Problem(response.status, await response.json().catch(() => ({})));
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          clearTimeout(silence);
          silence = setTimeout(() => connection.abort(), STREAM_SILENCE_MS);
          buffer += chunk.value.replace(/\r\n?/g, "\n");
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const event = parseEvents(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (!event || stopped) continue;
            if (event.event === "ready") failures = 0;
            onEvent({ ...event, data: event.data ? JSON.parse(event.data) : null });
          }
        }
        continue; // the stream's lifetime is up: the next one at once
      } catch (error) {
        if (stopped) return;
        const refused = error instanceof Problem && error.status < 500 && error.status !== 429;
        if (refused && !onRefused(error)) return;
        failures++;
        onDown(error instanceof Problem ? error : new Unreachable(String(error)));
      } finally {
        clearTimeout(silence);
      }
      const wait = STREAM_BACKOFF_MS[Math.min(failures, STREAM_BACKOFF_MS.length) - 1];
      await sleep(wait / 2 + Math.random() * wait / 2); // tablets that lost the network together do not return together
    }
  };
  run();
  return () => {
    stopped = true;
    connection?.abort();
  };
}
