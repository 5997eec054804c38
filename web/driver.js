// The driver's page (phone first): sign in, see the tours, start one, and while it is on its way send
// where the phone is (watchPosition: every 5–10 s, or every 10–50 m), kept on the phone while there is
// no network and sent once it is back; hand each order over; finish the tour.
// In dev the sign-in makes an unsigned ID token as the Firebase Auth emulator issues them; in
// production it signs in through Firebase Auth's REST API, as the staff board does.
import {
  API, FIREBASE, Problem, Unreachable, call, clearProblem, fill, h, makeTranslator, money, showAlert, showProblem, translateStatic,
} from "./common.js";
import { claimsOf, firebaseAuth, tokenKeeper } from "./firebase_auth.js";

const STRINGS = {
  de: {
    title: "Tresen – Fahrer", sign_in: "Anmelden", sign_out: "Abmelden",
    dev_hint: "Entwicklung: Anmeldung mit einem unsignierten Token, wie der Auth-Emulator es ausstellt.",
    user_id: "Benutzer-ID", email: "E-Mail", password: "Passwort", store: "Geschäft",
    no_access: "Dieses Konto hat keinen Zugang zu diesem Geschäft.", session_expired: "Bitte erneut anmelden.",
    "problem.sign_in_failed": "Anmeldung fehlgeschlagen: E-Mail oder Passwort stimmen nicht.",
    tours: "Meine Touren", reload: "Aktualisieren", back: "← Alle Touren", no_tours: "Gerade ist keine Tour für Sie geplant.",
    "tour.planned": "geplant", "tour.started": "unterwegs", tour_summary: "{status} · angelegt {time}",
    open_tour: "Tour öffnen", tour_title: "Tour mit {orders}", orders_one: "1 Bestellung", orders_many: "{count} Bestellungen", start: "Tour starten", finish: "Tour beenden",
    finish_all_done: "Alles zugestellt – Tour beenden", delivered: "Zugestellt", handed_over: "zugestellt",
    "order.accepted": "in Zubereitung", "order.ready": "abholbereit", "order.out_for_delivery": "unterwegs",
    "order.delivered": "zugestellt", "order.placed": "bestellt", "order.paid": "bezahlt",
    collect: "Kassieren: {amount}", paid_online: "Online bezahlt", call_customer: "Anrufen: {phone}", no_address: "(keine Adresse)",
    sending_wait: "Standort wird gesendet, sobald das Telefon die erste Position hat …",
    sending_ok: "Standort wird gesendet.", sending_age: "Zuletzt angekommen: vor {n} s. Wartend: {queued}.",
    sending_offline: "Offline – {queued} Positionen warten und werden gesendet, sobald wieder Netz da ist.",
    sending_stale: "Keine Positionen seit {time} – GPS/Empfang prüfen.",
    sending_denied: "Standortfreigabe fehlt – es werden keine Positionen gesendet.",
    location_denied: "Standortfreigabe fehlt: Bitte erlauben Sie dieser Seite den Standort (im Browser beim Schloss neben der Adresse: Standort → Erlauben) und laden Sie die Seite neu. Ohne sie sehen Kunden nicht, wo ihre Lieferung ist.",
    no_geolocation: "Dieses Gerät kann keinen Standort bestimmen: Kunden sehen nicht, wo ihre Lieferung ist.",
    tour_over: "Diese Tour ist beendet.",
    offline_title: "Keine Verbindung.", offline_detail: "Bitte erneut versuchen.", error_title: "Das hat nicht geklappt.",
  },
  en: {
    title: "Tresen – Driver", sign_in: "Sign in", sign_out: "Sign out",
    dev_hint: "Development: sign in with an unsigned token, as the Auth emulator issues them.",
    user_id: "User id", email: "E-mail", password: "Password", store: "Store",
    no_access: "This account has no access to this store.", session_expired: "Please sign in again.",
    "problem.sign_in_failed": "Sign-in failed: wrong e-mail or password.",
    tours: "My tours", reload: "Refresh", back: "← All tours", no_tours: "No tour is planned for you right now.",
    "tour.planned": "planned", "tour.started": "on its way", tour_summary: "{status} · created {time}",
    open_tour: "Open tour", tour_title: "Tour of {orders}", orders_one: "1 order", orders_many: "{count} orders", start: "Start the tour", finish: "Finish the tour",
    finish_all_done: "All delivered – finish the tour", delivered: "Delivered", handed_over: "delivered",
    "order.accepted": "being prepared", "order.ready": "ready", "order.out_for_delivery": "on its way",
    "order.delivered": "delivered", "order.placed": "ordered", "order.paid": "paid",
    collect: "Collect: {amount}", paid_online: "Paid online", call_customer: "Call: {phone}", no_address: "(no address)",
    sending_wait: "The location is sent once the phone has its first position …",
    sending_ok: "Sending the location.", sending_age: "Last arrived: {n} s ago. Waiting: {queued}.",
    sending_offline: "Offline – {queued} positions are waiting and are sent once the network is back.",
    sending_stale: "No positions since {time} – check GPS and reception.",
    sending_denied: "Location permission missing – no positions are sent.",
    location_denied: "Location permission missing: allow this page to use the location (in the browser, at the lock beside the address: Location → Allow) and reload the page. Without it customers cannot see where their delivery is.",
    no_geolocation: "This device cannot tell its location: customers cannot see where their delivery is.",
    tour_over: "This tour is over.",
    offline_title: "No connection.", offline_detail: "Please try again.", error_title: "That did not work.",
  },
};
const DEV_PROJECT = "demo-tresen"; // the dev mode's Firebase project id
const ROLES = ["driver", "staff", "supervisor", "owner"]; // who may drive a tour (the API checks whose it is)
// A position goes out at most every 5 s, and then once the phone moved 10 m or 10 s passed: every
// 5–10 s, or every 10–50 m at town speed.
const SPACING_MS = 5000;
const STILL_MS = 10000;
const MOVED_M = 10;
const NO_FIX_MS = 30000; // no position for this long: GPS or reception is gone
const BATCH = 100; // positions per call, the API's most: a backlog goes in a few calls
const RETRY_MS = 5000;
const SEND_TIMEOUT_MS = 15000;

const t = makeTranslator(STRINGS);
const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("tresen.driver") || "null");
// The tour on its way on this phone and what its positions are doing.
const trip = {
  tour: null, // as the API answered it last, with its orders
  watch: null, // watchPosition's id
  seq: 0, // the last position's number (the API orders positions by it)
  queue: [], // positions not yet accepted by the API, oldest first (also in localStorage)
  lastQueuedAt: 0, // Date.now() when the last position was queued
  lastQueued: null, // {lat, lng} of it
  waiting: null, // a fix that waits for its turn, and its timer
  waitTimer: null,
  firstFixWaitSince: 0,
  lastFixAt: 0, // Date.now() of the last fix
  lastArrivedAt: 0, // Date.now() when the API last took positions
  unreachable: false, // the last call got no answer
  denied: false,
  sending: null, // the flush under way
  retryTimer: null,
  ticker: null,
  wakeLock: null,
  state: null, // what the status line says, so it is announced only when it changes
};

const storePath = (suffix = "") => `/v1/stores/${encodeURIComponent(session.store)}${suffix}`;
const tourPath = (suffix = "") => storePath(`/tours/${encodeURIComponent(trip.tour.id)}${suffix}`);
const clock = (date) => date.toLocaleTimeString(t.lang() === "en" ? "en-GB" : "de-DE");

// ---- signing in ----------------------------------------------------------------------------------

function base64url(text) {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** What the Auth emulator issues (alg none): the API accepts it in dev mode only. */
function devToken(uid, store) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud: DEV_PROJECT, iss: `https://securetoken.google.com/${DEV_PROJECT}`, sub: uid, user_id: uid,
    iat: now, auth_time: now, exp: now + 3600, stores: { [store]: "driver" },
  };
  return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
}

const keepToken = tokenKeeper(async () => {
  if (FIREBASE) Object.assign(session, await (await firebaseAuth()).renew(session.refreshToken));
  else session.token = devToken(session.uid, session.store);
  sessionStorage.setItem("tresen.driver", JSON.stringify(session));
  return session.token;
});

async function signIn(event) {
  event.preventDefault();
  const form = $("sign-in");
  clearProblem(form, $("sign-in-alert"));
  const store = $("store").value.trim();
  try {
    const signedIn = FIREBASE
      ? await (await firebaseAuth()).signIn($("email").value.trim(), $("password").value)
      : { token: devToken($("dev-uid").value.trim(), store) };
    const claims = claimsOf(signedIn.token);
    if (!ROLES.includes((claims.stores || {})[store])) throw new Problem(403, { title: t("no_access") });
    session = { ...signedIn, uid: claims.user_id || claims.sub, store };
    sessionStorage.setItem("tresen.driver", JSON.stringify(session));
    showTours();
  } catch (error) {
    showProblem(form, $("sign-in-alert"), error, t);
  }
}

function signOut(message) {
  stopTracking();
  session = null;
  trip.tour = null;
  sessionStorage.removeItem("tresen.driver");
  for (const id of ["tours-view", "tour-view", "sign-out"]) $(id).hidden = true;
  $("who").textContent = "";
  $("sign-in").hidden = false;
  if (message) {
    $("sign-in-alert").textContent = message;
    $("sign-in-alert").hidden = false;
  }
}

/** An API call as the signed-in driver; an expired sign-in sends them back to signing in. */
async function driverCall(path, options = {}) {
  try {
    return await call(API.staff, path, { ...options, headers: { Authorization: `Bearer ${await keepToken(session)}` } });
  } catch (error) {
    if (error instanceof Problem && error.code === "unauthenticated") signOut(t("session_expired"));
    throw error;
  }
}

// ---- the tours -----------------------------------------------------------------------------------

async function showTours() {
  stopTracking();
  trip.tour = null;
  $("sign-in").hidden = true;
  $("tour-view").hidden = true;
  $("tours-view").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = `· ${session.store} · ${session.uid}`;
  try {
    const [started, planned] = await Promise.all(["started", "planned"].map((status) => driverCall(storePath(`/tours?status=${status}`))));
    const tours = [...started.data, ...planned.data];
    fill($("tours"), tours.length ? tours.map(tourCard) : h("p", { class: "note", id: "no-tours" }, t("no_tours")));
    $("page-alert").hidden = true;
  } catch (error) {
    if (session) showAlert($("page-alert"), error, t);
  }
}

const tourTitle = (count) => t("tour_title", { orders: count === 1 ? t("orders_one") : t("orders_many", { count }) });

function tourCard(tour) {
  const summary = t("tour_summary", { status: t(`tour.${tour.status}`), time: clock(new Date(tour.created_at)) });
  const title = `title-${tour.id}`;
  return h("article", { class: "tour", "data-tour": tour.id, "aria-labelledby": title },
    h("h3", { id: title }, tourTitle(tour.order_ids.length)),
    h("p", { class: "note", id: `summary-${tour.id}` }, summary),
    h("button", {
      type: "button", class: tour.status === "started" ? "primary" : null, "aria-describedby": `${title} summary-${tour.id}`,
      onclick: () => openTour(tour.id),
    }, t("open_tour")));
}

async function openTour(tourId) {
  try {
    trip.tour = await driverCall(storePath(`/tours/${encodeURIComponent(tourId)}`));
  } catch (error) {
    return showAlert($("page-alert"), error, t);
  }
  $("page-alert").hidden = true;
  $("tours-view").hidden = true;
  $("tour-view").hidden = false;
  renderTour();
  $("tour-title").focus();
  if (trip.tour.status === "started") startTracking();
}

async function reloadTour() {
  trip.tour = await driverCall(tourPath());
  renderTour();
}

function renderTour() {
  const tour = trip.tour;
  const open = tour.orders.filter((order) => order.status === "out_for_delivery");
  $("tour-title").textContent = tourTitle(tour.orders.length);
  fill($("tour-actions"),
    tour.status === "planned" ? h("button", { type: "button", id: "start", class: "primary wide", onclick: startTour }, t("start")) : null,
    tour.status === "started"
      ? h("button", { type: "button", id: "finish", class: open.length ? "wide" : "primary wide", onclick: finishTour },
        t(open.length ? "finish" : "finish_all_done")) : null,
    tour.status === "finished" ? h("span", { class: "note" }, t("tour_over")) : null);
  fill($("stops"), ...tour.orders.map(stop));
  renderSending();
}

function stop(order) {
  const handedOver = trip.tour.delivered_order_ids.includes(order.order_id);
  const collect = order.payment_method === "on_site" && order.amount_due > 0;
  return h("li", { class: `stop${handedOver ? " done" : ""}`, "data-order": order.order_id },
    h("p", { class: "address" }, `#${order.number} · ${order.address || t("no_address")}`),
    h("p", {}, `${order.customer_name} · ${t(`order.${order.status}`)}`),
    h("p", {}, collect ? h("strong", {}, t("collect", { amount: money(order.amount_due, "EUR", t.lang()) })) : t("paid_online")),
    order.customer_phone ? h("p", {}, h("a", { href: `tel:${order.customer_phone}` }, t("call_customer", { phone: order.customer_phone }))) : null,
    trip.tour.status === "started" && order.status === "out_for_delivery"
      ? h("button", { type: "button", class: "primary", onclick: () => handOver(order) }, `${t("delivered")}: #${order.number}`) : null);
}

async function startTour() {
  $("start").disabled = true;
  try {
    await driverCall(tourPath("/start"), { method: "POST" });
    await reloadTour();
    startTracking();
  } catch (error) {
    showAlert($("page-alert"), error, t);
    $("start").disabled = false;
  }
}

async function handOver(order) {
  try {
    await driverCall(tourPath(`/orders/${encodeURIComponent(order.order_id)}/delivered`), { method: "POST" });
    await reloadTour();
  } catch (error) {
    showAlert($("page-alert"), error, t);
  }
}

async function finishTour() {
  $("finish").disabled = true;
  await sendQueued(); // what the phone still holds goes first: the tour takes positions only until it is over
  try {
    await driverCall(tourPath("/finish"), { method: "POST" });
    forgetTrip(trip.tour.id);
    showTours();
  } catch (error) {
    showAlert($("page-alert"), error, t);
    $("finish").disabled = false;
  }
}

// ---- positions -----------------------------------------------------------------------------------

const saved = (tourId) => `tresen.driver.trip.${tourId}`;

function saveTrip() {
  localStorage.setItem(saved(trip.tour.id), JSON.stringify({ seq: trip.seq, queue: trip.queue }));
}

function forgetTrip(tourId) {
  localStorage.removeItem(saved(tourId));
}

function startTracking() {
  if (trip.watch !== null) return;
  const kept = JSON.parse(localStorage.getItem(saved(trip.tour.id)) || "null");
  // a reload continues the count: the API keeps the highest seq as the latest
  trip.seq = Math.max(kept?.seq ?? 0, trip.tour.latest_position?.seq ?? 0);
  trip.queue = kept?.queue ?? [];
  trip.firstFixWaitSince = Date.now();
  trip.ticker = setInterval(renderSending, 1000);
  navigator.wakeLock?.request("screen").then((lock) => (trip.wakeLock = lock), () => {}); // the screen stays on while driving, where the phone allows it
  if (!("geolocation" in navigator)) return showLocationProblem(t("no_geolocation"));
  trip.watch = navigator.geolocation.watchPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 0, timeout: NO_FIX_MS });
  sendQueued();
}

function stopTracking() {
  if (trip.watch !== null) navigator.geolocation.clearWatch(trip.watch);
  for (const timer of [trip.waitTimer, trip.retryTimer]) clearTimeout(timer);
  clearInterval(trip.ticker);
  trip.wakeLock?.release().catch(() => {});
  Object.assign(trip, {
    watch: null, waiting: null, waitTimer: null, retryTimer: null, ticker: null, wakeLock: null, lastQueued: null, lastQueuedAt: 0,
    lastFixAt: 0, lastArrivedAt: 0, denied: false, unreachable: false, state: null,
  });
  $("location-alert").hidden = true;
}

function onFix(position) {
  trip.lastFixAt = Date.now();
  if (trip.denied) {
    trip.denied = false;
    $("location-alert").hidden = true;
  }
  const { latitude: lat, longitude: lng, accuracy } = position.coords;
  consider({ lat, lng, accuracy: Number.isFinite(accuracy) ? accuracy : null, at: new Date(position.timestamp).toISOString() });
}

function onFixError(error) {
  if (error.code === error.PERMISSION_DENIED) {
    trip.denied = true;
    showLocationProblem(t("location_denied"));
  }
  renderSending(); // no position (or no answer in time): the status line tells how long since the last
}

function showLocationProblem(text) {
  const box = $("location-alert");
  box.textContent = text;
  box.hidden = false;
  box.focus();
  renderSending();
}

/** Metres between two points (equirectangular: a few metres off over a few hundred, plenty here). */
function metres(a, b) {
  const x = ((b.lng - a.lng) * Math.PI / 180) * Math.cos(((a.lat + b.lat) / 2) * Math.PI / 180);
  const y = ((b.lat - a.lat) * Math.PI / 180);
  return Math.hypot(x, y) * 6371000;
}

/** A fix goes out when its turn has come, else it waits for it (a newer one takes its place). */
function consider(fix) {
  clearTimeout(trip.waitTimer);
  trip.waiting = null;
  const since = Date.now() - trip.lastQueuedAt;
  const moved = trip.lastQueued ? metres(trip.lastQueued, fix) : Infinity;
  const due = since >= SPACING_MS && (moved >= MOVED_M || since >= STILL_MS);
  if (!due) {
    trip.waiting = fix;
    const turn = moved >= MOVED_M ? SPACING_MS - since : STILL_MS - since;
    trip.waitTimer = setTimeout(() => consider(trip.waiting), Math.max(turn, 0));
    return;
  }
  trip.queue.push({ ...fix, seq: ++trip.seq });
  trip.lastQueued = fix;
  trip.lastQueuedAt = Date.now();
  saveTrip();
  sendQueued();
}

/** Sends what is queued, 100 at a time, oldest first; a call without an answer is tried again in 5 s. */
function sendQueued() {
  trip.sending ??= (async () => {
    while (trip.tour && trip.queue.length && navigator.onLine) {
      const batch = trip.queue.slice(0, BATCH);
      try {
        await postPositions(batch);
      } catch (error) {
        trip.unreachable = error instanceof Unreachable || (error instanceof Problem && error.status >= 500);
        if (!trip.unreachable) keepNoLonger(error);
        else trip.retryTimer = setTimeout(sendQueued, RETRY_MS);
        break;
      }
      trip.unreachable = false;
      trip.lastArrivedAt = Date.now();
      trip.queue = trip.queue.slice(batch.length);
      saveTrip();
    }
  })().finally(() => {
    trip.sending = null;
    renderSending();
  });
  return trip.sending;
}

async function postPositions(positions) {
  let response;
  try {
    response = await fetch(API.staff + tourPath("/positions"), {
      method: "POST", body: JSON.stringify({ positions }), signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json", Authorization: `Bearer ${await keepToken(session)}` },
    });
  } catch (error) {
    throw new Unreachable(String(error));
  }
  if (!response.ok) throw new Problem(response.status, await response.json().catch(() => ({})));
}

/** The API refused the positions for good: signed out, or the tour is no longer on its way. */
function keepNoLonger(problem) {
  if (problem.code === "unauthenticated") return signOut(t("session_expired"));
  trip.queue = [];
  forgetTrip(trip.tour.id);
  stopTracking();
  showAlert($("page-alert"), problem, t);
  reloadTour().catch(() => {});
}

/** The status line: announced when what it says changes; the seconds under it are not. */
function renderSending() {
  const line = $("sending");
  if (!trip.tour || trip.tour.status !== "started" || trip.ticker === null) {
    trip.state = null;
    $("sending-age").textContent = "";
    return fill(line);
  }
  const queued = trip.queue.length;
  const lastFix = trip.lastFixAt || trip.firstFixWaitSince;
  let state;
  if (trip.denied) state = ["problem", t("sending_denied")];
  else if (!navigator.onLine || trip.unreachable) state = ["problem", t("sending_offline", { queued })];
  else if (Date.now() - lastFix > NO_FIX_MS) state = ["problem", t("sending_stale", { time: clock(new Date(lastFix)) })];
  else if (!trip.lastFixAt) state = ["wait", t("sending_wait")];
  else state = ["ok", t("sending_ok")];
  if (trip.state?.[1] !== state[1]) {
    trip.state = state;
    line.dataset.state = state[0];
    line.textContent = state[1];
  }
  const seconds = Math.floor((Date.now() - trip.lastArrivedAt) / 1000);
  $("sending-age").textContent = state[0] === "ok" && trip.lastArrivedAt ? t("sending_age", { n: seconds, queued }) : "";
}

// ---- start ---------------------------------------------------------------------------------------

function relabel() {
  translateStatic(t);
  $("language").textContent = t.lang() === "de" ? "English" : "Deutsch";
  $("language").lang = t.lang() === "de" ? "en" : "de";
  trip.state = null;
  if (trip.tour && !$("tour-view").hidden) renderTour();
  else if (session && !$("tours-view").hidden) showTours();
}

function start() {
  relabel();
  $("sign-in-dev").hidden = Boolean(FIREBASE);
  $("sign-in-firebase").hidden = !FIREBASE;
  $("language").addEventListener("click", () => { t.toggle(); relabel(); });
  $("sign-in").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("reload-tours").addEventListener("click", showTours);
  $("back").addEventListener("click", showTours);
  window.addEventListener("online", () => sendQueued());
  window.addEventListener("offline", renderSending);
  if (session) showTours();
  else $("sign-in").hidden = false;
}

start();
