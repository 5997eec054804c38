// The staff board's till ("Kasse"): the store's workplaces with their card terminals and shifts, a
// closed shift's reconciliation (printable), and a card payment at the counter, followed until it is
// settled. The board lends it its translator, its API calls and the signed-in role (connectTill); the
// panel is built when first opened and emptied on signing out, as the customers' panel is.
import { API, Attempt, Problem, call, clearProblem, fill, h, money, showAlert, showProblem, time, translateStatic } from "./common.js";

export const TILL_STRINGS = {
  de: {
    till: "Kasse", "till.places": "Arbeitsplätze", "till.new_place": "Neuer Arbeitsplatz", "till.place_name": "Name, z. B. Tresen 1",
    "till.add_place": "Arbeitsplatz anlegen", "till.place_added": "Arbeitsplatz „{name}“ angelegt.",
    "till.no_places": "Noch kein Arbeitsplatz. Arbeitsplätze legt die Inhaberin oder der Inhaber an.",
    "till.shift_none": "Keine Schicht offen.", "till.shift_open_since": "Schicht offen seit {time}, geöffnet von {who}.",
    "till.open_shift": "Schicht öffnen", "till.close_shift": "Schicht schließen",
    "till.shift_opened": "Schicht an „{place}“ geöffnet.", "till.shift_closed": "Schicht an „{place}“ geschlossen.",
    "till.terminals": "Kartenterminals", "till.no_terminals": "Noch kein Kartenterminal.",
    "till.serial": "Seriennummer {serial}", "till.tid": "TID {tid}", "till.no_tid": "ohne TID",
    "till.provider.sandbox": "Sandbox (Simulator)", "till.provider.stripe_terminal": "Stripe Terminal",
    "till.status.online": "online", "till.status.offline": "offline", "till.status.removed": "entfernt",
    "till.checked_at": "geprüft {time}", "till.never_checked": "noch nie geprüft",
    "till.check": "Verbindung prüfen", "till.check_label": "Verbindung prüfen: {terminal}", "till.checked": "{terminal}: {status} – {detail}",
    "till.remove": "Entfernen", "till.remove_label": "Entfernen: {terminal}", "till.removed": "{terminal} ist entfernt.",
    "till.register": "Terminal registrieren", "till.provider": "Anbieter", "till.model": "Modell", "till.model_hint": "z. B. BBPOS WisePOS E",
    "till.serial_number": "Seriennummer", "till.bank_tid": "Terminal-ID der Bank (TID, falls vorhanden)",
    "till.registration_code": "Registrierungscode", "till.registration_code_hint": "Der Code, den das Terminal zum Koppeln anzeigt.",
    "till.register_now": "Registrieren", "till.registered": "{terminal} ist registriert.",
    "till.locked": "Solange hier eine Schicht offen ist, lassen sich keine Terminals registrieren oder entfernen.",
    "till.past_shifts": "Frühere Schichten", "till.no_past_shifts": "Noch keine geschlossene Schicht.",
    "till.past_shift": "{opened} bis {closed}", "till.show_report": "Abgleich zeigen", "till.show_report_label": "Abgleich zeigen: Schicht vom {opened}",
    "till.matched": "stimmt überein", "till.mismatched": "weicht ab",
    "till.report_title": "Schichtabgleich – {place}",
    "till.report_times": "Geöffnet {opened} von {opened_by}, geschlossen {closed} von {closed_by}.",
    "till.all_matched": "Alles stimmt überein: Terminals und Tresen haben dieselben Kartenzahlungen.",
    "till.not_matched": "Stimmt nicht überein – bitte die Abweichungen prüfen.",
    "till.terminal_matched": "Stimmt überein.", "till.terminal_mismatched": "Stimmt nicht überein.",
    "till.no_terminals_in_shift": "In dieser Schicht stand kein Terminal an diesem Arbeitsplatz.",
    "till.versus": "Kartenzahlungen laut Terminal und laut Tresen", "till.brand": "Marke", "till.side.terminal": "Terminal",
    "till.side.tresen": "Tresen", "till.count": "Anzahl", "till.amount": "Betrag", "till.total": "Gesamt", "till.brand_unknown": "unbekannt",
    "till.only_terminal": "Nur am Terminal: {amount} (Beleg {ref})", "till.only_tresen": "Nur in Tresen: Bestellung {order} über {amount}",
    "till.amount_differs": "Betrag weicht ab: am Terminal {amount}, in Tresen {tresen} (Bestellung {order}, Beleg {ref})",
    "till.print": "Drucken", "till.close_report": "Schließen",
    "till.sale": "Kartenzahlung", "till.no_card_present": "Dieses Geschäft nimmt keine Kartenzahlung am Terminal an.",
    "till.no_open_terminal": "Für eine Kartenzahlung muss an einem Arbeitsplatz mit Kartenterminal eine Schicht offen sein.",
    "till.products": "Artikel", "till.less": "Eins weniger: {name}", "till.more": "Eins mehr: {name}",
    "till.table": "Tisch", "till.table_optional": "Tisch (optional)", "till.terminal": "Terminal", "till.sale_total": "Summe",
    "till.pay": "Mit Karte zahlen", "till.nothing_chosen": "Bitte mindestens einen Artikel wählen.",
    "till.sale_processing": "Bitte Karte vorhalten … {amount} am Terminal {terminal}.",
    "till.sale_paid": "Bezahlt: {amount} mit {brand} (Bestellung #{number}).",
    "till.sale_declined": "Abgelehnt: {error}", "till.sale_canceled": "Abgebrochen: Bestellung #{number} ist storniert.",
    "till.cancel": "Abbrechen", "till.refresh": "Status abfragen", "till.declined": "Die Karte wurde abgelehnt.",
    "till.reader_refused": "Das Terminal konnte die Zahlung nicht annehmen: {reason}",
    "till.simulator": "Simulator: Karte vorhalten",
    "till.simulator_hint": "Nur in der Entwicklung: spielt die Kundin oder den Kunden am simulierten Terminal (Sandbox).",
    "till.card_brand": "Kartenmarke", "till.approve": "Zahlung genehmigen", "till.decline": "Karte ablehnen",
    "problem.shift_open": "An diesem Arbeitsplatz ist eine Schicht offen: Terminals lassen sich erst nach ihrem Schließen registrieren oder entfernen, und es ist immer nur eine Schicht offen.",
    "problem.shift_closed": "Diese Schicht ist schon geschlossen.",
    "problem.payment_in_progress": "Ein Terminal wartet noch auf eine Karte. Bitte die Zahlung abschließen oder abbrechen und die Schicht dann schließen.",
    "problem.payment_completed": "Die Karte wurde belastet, bevor der Abbruch das Terminal erreichte: die Bestellung ist bezahlt.",
    "problem.payment_not_cancelable": "Diese Zahlung ist schon abgeschlossen und lässt sich nicht mehr abbrechen.",
    "problem.no_payment_pending": "Das Terminal wartet gerade auf keine Zahlung.",
    "problem.terminal_busy": "Das Terminal nimmt gerade eine andere Zahlung an.",
    "problem.store_closed": "Das Geschäft ist gerade geschlossen: außerhalb der Öffnungszeiten nimmt es keine Bestellungen an.",
    "problem.registration_refused": "Stripe hat das Terminal nicht angenommen: bitte den Registrierungscode prüfen, den das Terminal zeigt.",
    "problem.store_address_required": "Für Stripe Terminal braucht das Geschäft eine Anschrift: bitte im Kundenportal eintragen.",
    "problem.provider_not_ready": "Dieser Anbieter ist für das Geschäft noch nicht eingerichtet.",
    "field.registration_code": "Bitte den Code eingeben, den das Terminal anzeigt.",
    "field.fulfilment.table": "Bitte eine Tischnummer angeben.", "field.payment.terminal_id": "Bitte ein Terminal wählen.",
  },
  en: {
    till: "Till", "till.places": "Workplaces", "till.new_place": "New workplace", "till.place_name": "Name, e.g. Counter 1",
    "till.add_place": "Add the workplace", "till.place_added": "Workplace “{name}” added.",
    "till.no_places": "No workplace yet. Workplaces are added by the owner.",
    "till.shift_none": "No shift open.", "till.shift_open_since": "Shift open since {time}, opened by {who}.",
    "till.open_shift": "Open the shift", "till.close_shift": "Close the shift",
    "till.shift_opened": "Shift at “{place}” opened.", "till.shift_closed": "Shift at “{place}” closed.",
    "till.terminals": "Card terminals", "till.no_terminals": "No card terminal yet.",
    "till.serial": "Serial number {serial}", "till.tid": "TID {tid}", "till.no_tid": "no TID",
    "till.provider.sandbox": "Sandbox (simulator)", "till.provider.stripe_terminal": "Stripe Terminal",
    "till.status.online": "online", "till.status.offline": "offline", "till.status.removed": "removed",
    "till.checked_at": "checked {time}", "till.never_checked": "never checked",
    "till.check": "Check the connection", "till.check_label": "Check the connection: {terminal}", "till.checked": "{terminal}: {status} – {detail}",
    "till.remove": "Remove", "till.remove_label": "Remove: {terminal}", "till.removed": "{terminal} is removed.",
    "till.register": "Register a terminal", "till.provider": "Provider", "till.model": "Model", "till.model_hint": "e.g. BBPOS WisePOS E",
    "till.serial_number": "Serial number", "till.bank_tid": "The bank's terminal id (TID, if any)",
    "till.registration_code": "Registration code", "till.registration_code_hint": "The code the terminal shows for pairing.",
    "till.register_now": "Register", "till.registered": "{terminal} is registered.",
    "till.locked": "While a shift is open here, no terminal can be registered or removed.",
    "till.past_shifts": "Past shifts", "till.no_past_shifts": "No closed shift yet.",
    "till.past_shift": "{opened} to {closed}", "till.show_report": "Show the reconciliation", "till.show_report_label": "Show the reconciliation: shift of {opened}",
    "till.matched": "matched", "till.mismatched": "not matched",
    "till.report_title": "Shift reconciliation – {place}",
    "till.report_times": "Opened {opened} by {opened_by}, closed {closed} by {closed_by}.",
    "till.all_matched": "Everything matches: the terminals and Tresen hold the same card payments.",
    "till.not_matched": "Not matched – please check the differences.",
    "till.terminal_matched": "Matched.", "till.terminal_mismatched": "Not matched.",
    "till.no_terminals_in_shift": "No terminal stood at this workplace during the shift.",
    "till.versus": "Card payments as the terminal and as Tresen hold them", "till.brand": "Brand", "till.side.terminal": "Terminal",
    "till.side.tresen": "Tresen", "till.count": "Count", "till.amount": "Amount", "till.total": "Total", "till.brand_unknown": "unknown",
    "till.only_terminal": "Only at the terminal: {amount} (receipt {ref})", "till.only_tresen": "Only in Tresen: order {order} of {amount}",
    "till.amount_differs": "Amount differs: {amount} at the terminal, {tresen} in Tresen (order {order}, receipt {ref})",
    "till.print": "Print", "till.close_report": "Close",
    "till.sale": "Card payment", "till.no_card_present": "This store does not take card payments at a terminal.",
    "till.no_open_terminal": "A card payment needs an open shift at a workplace with a card terminal.",
    "till.products": "Items", "till.less": "One less: {name}", "till.more": "One more: {name}",
    "till.table": "Table", "till.table_optional": "Table (optional)", "till.terminal": "Terminal", "till.sale_total": "Total",
    "till.pay": "Pay by card", "till.nothing_chosen": "Choose at least one item.",
    "till.sale_processing": "Please present the card … {amount} at terminal {terminal}.",
    "till.sale_paid": "Paid: {amount} by {brand} (order #{number}).",
    "till.sale_declined": "Declined: {error}", "till.sale_canceled": "Payment canceled: order #{number} is void.",
    "till.cancel": "Cancel", "till.refresh": "Ask for the status", "till.declined": "The card was declined.",
    "till.reader_refused": "The terminal could not take the payment: {reason}",
    "till.simulator": "Simulator: present a card",
    "till.simulator_hint": "Development only: plays the customer at the simulated terminal (sandbox).",
    "till.card_brand": "Card brand", "till.approve": "Approve the payment", "till.decline": "Decline the card",
    "problem.shift_open": "A shift is open at this workplace: terminals can be registered or removed only once it is closed, and only one shift is open at a time.",
    "problem.shift_closed": "This shift is closed already.",
    "problem.payment_in_progress": "A terminal is still waiting for a card. Finish or cancel that payment, then close the shift.",
    "problem.payment_completed": "The card was charged before the cancel reached the terminal: the order is paid.",
    "problem.payment_not_cancelable": "This payment is over and can no longer be canceled.",
    "problem.no_payment_pending": "The terminal is not waiting for a payment.",
    "problem.terminal_busy": "The terminal is taking another payment.",
    "problem.store_closed": "The store is closed: it takes no orders outside its opening hours.",
    "problem.registration_refused": "Stripe did not accept the terminal: check the registration code the terminal shows.",
    "problem.store_address_required": "Stripe Terminal needs the store's postal address: enter it in the merchant portal.",
    "problem.provider_not_ready": "This provider is not set up for the store yet.",
    "field.registration_code": "Enter the code the terminal shows.",
    "field.fulfilment.table": "Enter a table number.", "field.payment.terminal_id": "Choose a terminal.",
  },
};

const WORKPLACE_ROLES = ["owner"];
const TERMINAL_ROLES = ["owner", "supervisor"];
const SHIFT_ROLES = ["owner", "supervisor", "staff"]; // open and close shifts, check terminals, take card payments
const PROVIDERS = ["stripe_terminal", "sandbox"];
const SHIFTS_SHOWN = 10;
const SALE_POLL_MS = 1500;
const MAX_QUANTITY = 99; // of one product in an order (the API's limit)
// A sale at the counter names no customer, and an order needs one: the till's own, at an address of
// the reserved .invalid domain (RFC 2606) that no mail can reach; no receipt is asked to be mailed.
const COUNTER_CUSTOMER = { name: "Gast an der Kasse", email: "kasse@tresen.invalid" };
// card brands as the API names them (Stripe's names), as they are printed on the cards
const BRAND_NAMES = {
  visa: "Visa", mastercard: "Mastercard", girocard: "girocard", maestro: "Maestro", amex: "American Express",
  cartes_bancaires: "Cartes Bancaires", diners: "Diners Club", discover: "Discover", eftpos_au: "eftpos",
  interac: "Interac", jcb: "JCB", unionpay: "UnionPay",
};
// the reasons a card payment failed that the API gives in English (services/card_present.py, the sandbox's reader)
const DECLINED = "The card was declined.";
const READER_REFUSED = "The terminal could not take the payment: ";

/** What the board lends the till: t, staffCall(base, path, options), storePath(suffix), inOurWords(error), role(). */
let board = null;
const till = {
  workplaces: [], // as GET …/workplaces answered, each with its terminals
  shifts: new Map(), // workplace id → its newest shifts, the open one included
  menu: null, // the store's menu: what a card payment at the counter sells, and the store's name
  loading: 0, // the newest load; an older one answering late is dropped
  report: null, // the closed shift whose reconciliation is shown
  orderNumbers: new Map(), // order id → its number, for the mismatches' words
  quantities: new Map(), // product id → how many the next card payment sells
  tableDraft: "", // the table typed for it
  saleAttempt: new Attempt(), // the next "Pay by card": one key for its retries, a new one once it was answered
  sale: null, // {order, terminal}: the card payment at the counter being followed
  timer: null, // the next look at the sale, while it is at the terminal and the tab is open
  shown: false,
};

const $ = (id) => document.getElementById(id);
const t = (key, values) => board.t(key, values);
const m = (cents, currency = "EUR") => money(cents, currency, board.t.lang());
const at = (iso) => time(iso, board.t.lang());
const may = (roles) => roles.includes(board.role());
const placePath = (workplaceId, suffix = "") => board.storePath(`/workplaces/${encodeURIComponent(workplaceId)}${suffix}`);
const terminalName = (terminal) => `${terminal.model} (${terminal.serial_number})`;
const brandName = (brand) => BRAND_NAMES[brand] || (brand === "unknown" || !brand ? t("till.brand_unknown") : brand);

export function connectTill(lent) {
  board = lent;
}

/** The tab opened: the panel built (the first time), everything read afresh, a running sale followed again. */
export function openTill() {
  buildTill();
  till.shown = true;
  followSale();
  return loadTill();
}

/** The tab left: the sale is no longer asked after (it is again when the tab opens). */
export function leaveTill() {
  till.shown = false;
  clearTimeout(till.timer);
}

/** Signing out: nothing of the store stays in the page. */
export function forgetTill() {
  leaveTill();
  Object.assign(till, {
    workplaces: [], shifts: new Map(), menu: null, loading: 0, report: null, orderNumbers: new Map(),
    quantities: new Map(), tableDraft: "", saleAttempt: new Attempt(), sale: null, timer: null,
  });
  fill($("till-panel"));
}

export function relabelTill() {
  if (!$("till")) return;
  translateStatic(board.t, $("till-panel"));
  say(""); // what was just done, said in the other language
  renderTill();
}

function buildTill() {
  const panel = $("till-panel");
  if (panel.firstChild) return;
  fill(panel,
    h("div", { id: "till-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { id: "till-note", class: "ok", role: "status", hidden: true }),
    h("section", { id: "shift-report", class: "report", "aria-labelledby": "report-title", hidden: true }),
    h("div", { class: "till", id: "till" },
      h("section", { id: "till-places", "aria-labelledby": "places-title" },
        h("h2", { id: "places-title", "data-t": "till.places" }),
        may(WORKPLACE_ROLES) ? placeForm() : null,
        h("div", { id: "workplaces" })),
      may(SHIFT_ROLES) ? h("section", { id: "till-sale", "aria-labelledby": "sale-title" },
        h("h2", { id: "sale-title", "data-t": "till.sale" }),
        h("p", { id: "sale-status", class: "sale-status", role: "status", tabindex: "-1" }),
        h("div", { id: "sale-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
        h("p", { id: "sale-actions", class: "actions" }),
        h("div", { id: "simulator" }),
        h("form", {
          id: "sale-form", novalidate: true, "aria-labelledby": "sale-title", onsubmit: payByCard, oninput: saleChanged, onchange: showQuantity,
        })) : null));
  translateStatic(board.t, panel);
}

function placeForm() {
  return h("form", { id: "workplace-new", novalidate: true, onsubmit: addPlace },
    h("label", { for: "workplace-name", "data-t": "till.new_place" }),
    h("div", { class: "row search" },
      h("div", {}, h("input", { id: "workplace-name", "data-field": "name", maxlength: 100, autocomplete: "off", "data-t-placeholder": "till.place_name" })),
      h("button", { type: "submit", class: "primary", "data-t": "till.add_place" })),
    h("div", { id: "workplace-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }));
}

function say(text) {
  const note = $("till-note");
  note.textContent = text || "";
  note.hidden = !text;
}

// ---- reading and showing the workplaces ----------------------------------------------------------

/** The workplaces with their shifts, and the menu. */
async function loadTill() {
  if (!$("till")) return; // signed out meanwhile
  const asked = ++till.loading;
  $("workplaces").setAttribute("aria-busy", "true");
  try {
    const [places, menu] = await Promise.all([
      board.staffCall(API.staff, board.storePath("/workplaces")),
      call(API.customer, board.storePath("/menu")), // what the counter sells, and the store's name for the report
    ]);
    const shifts = await Promise.all(places.data.map((place) => board.staffCall(API.staff, placePath(place.id, `/shifts?limit=${SHIFTS_SHOWN}`))));
    if (asked !== till.loading) return;
    till.workplaces = places.data;
    till.shifts = new Map(places.data.map((place, i) => [place.id, shifts[i].data]));
    till.menu = menu;
    $("till-alert").hidden = true;
  } catch (error) {
    if (asked === till.loading && $("till")) showAlert($("till-alert"), error, board.t);
  } finally {
    if (asked === till.loading) $("workplaces")?.removeAttribute("aria-busy");
  }
  if (asked === till.loading && $("till")) renderTill();
}

function renderTill() {
  renderPlaces();
  renderReport();
  if ($("till-sale")) {
    renderSaleForm();
    renderSale();
  }
}

/** Re-drawn in place: what was typed into a terminal's form and which of them is open are kept, and
 * the focus stays on the control it was on. */
function renderPlaces() {
  const drafts = new Map([...document.querySelectorAll("#workplaces form.register")].map((form) => [
    form.dataset.workplace, { open: form.closest("details").open, values: formValues(form) },
  ]));
  keepingFocus(() => fill($("workplaces"), till.workplaces.length
    ? till.workplaces.map((place) => placeCard(place, drafts.get(place.id)))
    : h("p", { class: "note empty" }, t("till.no_places"))));
}

/** What a form holds, disabled fields too (FormData leaves them out). */
function formValues(form) {
  return Object.fromEntries([...form.elements].filter((field) => field.name).map((field) => [field.name, field.value]));
}

/** Draws anew; a control that had the focus has it again once drawn anew, else `fallback` has it. */
function keepingFocus(render, fallback = null) {
  const focused = document.activeElement;
  render();
  if (!focused?.id || document.contains(focused)) return;
  ($(focused.id) || fallback)?.focus();
}

function openShiftOf(place) {
  return place.open_shift_id ? (till.shifts.get(place.id) || []).find((shift) => shift.id === place.open_shift_id) : null;
}

function placeCard(place, draft) {
  const id = (suffix) => `wp-${place.id}-${suffix}`;
  const open = openShiftOf(place);
  const locked = Boolean(place.open_shift_id);
  const past = (till.shifts.get(place.id) || []).filter((shift) => shift.status === "closed");
  return h("article", { class: `workplace${locked ? " shift-open" : ""}`, "data-workplace": place.id, "aria-labelledby": id("title") },
    h("h3", { id: id("title") }, place.name),
    h("p", { class: "shift-state" }, locked
      ? t("till.shift_open_since", { time: open ? at(open.opened_at) : "–", who: open?.opened_by || "–" }) : t("till.shift_none")),
    may(SHIFT_ROLES) ? h("p", { class: "actions" }, locked
      ? h("button", { type: "button", id: id("close"), class: "primary", onclick: () => closeShift(place) }, t("till.close_shift"))
      : h("button", { type: "button", id: id("open"), class: "primary", onclick: () => openShift(place) }, t("till.open_shift"))) : null,
    h("div", { id: id("alert"), class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("h4", {}, t("till.terminals")),
    locked && may(TERMINAL_ROLES) ? h("p", { class: "notice", id: id("locked") }, t("till.locked")) : null,
    place.terminals.length
      ? h("ul", { class: "terminals" }, ...place.terminals.map((terminal) => terminalItem(place, terminal, locked)))
      : h("p", { class: "note" }, t("till.no_terminals")),
    may(TERMINAL_ROLES) ? registerForm(place, locked, draft) : null,
    h("h4", {}, t("till.past_shifts")),
    past.length
      ? h("ul", { class: "shifts" }, ...past.map((shift) => h("li", { "data-shift": shift.id },
        h("span", {}, t("till.past_shift", { opened: at(shift.opened_at), closed: at(shift.closed_at) }), " · ",
          h("strong", { class: shift.matched ? "matched" : "mismatched" }, t(shift.matched ? "till.matched" : "till.mismatched"))),
        h("button", { type: "button", class: "small", "aria-label": t("till.show_report_label", { opened: at(shift.opened_at) }), onclick: () => showReport(shift) },
          t("till.show_report")))))
      : h("p", { class: "note" }, t("till.no_past_shifts")));
}

function terminalItem(place, terminal, locked) {
  const check = terminal.last_check;
  return h("li", { class: "terminal", "data-terminal": terminal.id },
    h("p", { class: "terminal-name" }, h("strong", {}, terminal.model), " · ", t(`till.provider.${terminal.provider}`)),
    h("p", { class: "note" }, [t("till.serial", { serial: terminal.serial_number }),
      terminal.terminal_id ? t("till.tid", { tid: terminal.terminal_id }) : t("till.no_tid")].join(" · ")),
    h("p", { class: "connection" },
      h("span", { class: `badge ${terminal.status}` }, t(`till.status.${terminal.status}`)), " ",
      check ? t("till.checked_at", { time: at(check.checked_at) }) : t("till.never_checked")),
    h("p", { class: "actions" },
      may(SHIFT_ROLES) ? h("button", {
        type: "button", id: `check-${terminal.id}`, class: "small", "aria-label": t("till.check_label", { terminal: terminalName(terminal) }),
        onclick: () => checkTerminal(place, terminal),
      }, t("till.check")) : null,
      may(TERMINAL_ROLES) ? h("button", {
        type: "button", id: `remove-${terminal.id}`, class: "small danger", disabled: locked,
        "aria-label": t("till.remove_label", { terminal: terminalName(terminal) }), "aria-describedby": locked ? `wp-${place.id}-locked` : null,
        onclick: () => removeTerminal(place, terminal),
      }, t("till.remove")) : null));
}

function registerForm(place, locked, draft) {
  const id = (suffix) => `reg-${place.id}-${suffix}`;
  const values = draft?.values || {};
  const provider = values.provider || PROVIDERS[0];
  const input = (name, label, attributes = {}) => h("div", { class: "field", id: id(`${name}-field`) },
    h("label", { for: id(name) }, t(label)),
    h("input", { id: id(name), name, "data-field": name, maxlength: 100, autocomplete: "off", value: values[name] || "", ...attributes }));
  return h("details", { class: "register", open: draft?.open || false },
    h("summary", {}, t("till.register")),
    h("form", { class: "register", id: id("form"), "data-workplace": place.id, novalidate: true, onsubmit: (event) => registerTerminal(event, place) },
      h("fieldset", { disabled: locked, "aria-describedby": locked ? `wp-${place.id}-locked` : null },
        h("label", { for: id("provider") }, t("till.provider")),
        h("select", { id: id("provider"), name: "provider", "data-field": "provider", onchange: () => showCodeField(place) },
          ...PROVIDERS.map((name) => h("option", { value: name, selected: name === provider }, t(`till.provider.${name}`)))),
        input("model", "till.model", { placeholder: t("till.model_hint") }),
        input("serial_number", "till.serial_number"),
        input("terminal_id", "till.bank_tid", { maxlength: 40 }),
        h("div", { class: "field", id: id("registration_code-field"), hidden: provider !== "stripe_terminal" },
          h("label", { for: id("registration_code") }, t("till.registration_code")),
          h("input", {
            id: id("registration_code"), name: "registration_code", "data-field": "registration_code", autocomplete: "off",
            value: values.registration_code || "", "aria-describedby": id("code-hint"),
          }),
          h("span", { class: "note hint", id: id("code-hint") }, t("till.registration_code_hint"))),
        h("p", {}, h("button", { type: "submit", class: "primary" }, t("till.register_now")))),
      h("div", { id: id("alert"), class: "alert", role: "alert", tabindex: "-1", hidden: true })));
}

/** The registration code is asked only of a Stripe reader, which shows it for pairing. */
function showCodeField(place) {
  $(`reg-${place.id}-registration_code-field`).hidden = $(`reg-${place.id}-provider`).value !== "stripe_terminal";
}

// ---- what is done to workplaces, terminals and shifts --------------------------------------------

/** showProblem, and in its alert what the form has no field for (an item sold out meanwhile, say). */
function showFormProblem(form, alertBox, error) {
  showProblem(form, alertBox, board.inOurWords(error), board.t);
  const elsewhere = (error.errors || []).filter(({ field }) => !form.querySelector(`[data-field="${CSS.escape(field)}"]`));
  if (elsewhere.length) alertBox.append(h("ul", {}, ...elsewhere.map(({ field, message }) => h("li", {}, `${field}: ${message}`))));
}

/** A change by this person: the problem beside where they acted, else the workplaces read afresh and
 * `done` said. A 409 `shift_open` means the page was behind: it is read afresh too, and the problem
 * said where the form now stands. */
async function change(alertId, form, work, done) {
  const alertBox = $(alertId);
  clearProblem(form || alertBox.parentElement, alertBox);
  say("");
  const buttons = [...(form || alertBox.parentElement).querySelectorAll("button")].filter((button) => !button.disabled);
  buttons.forEach((button) => (button.disabled = true));
  try {
    const result = await work();
    await loadTill();
    say(done(result));
    return result;
  } catch (error) {
    if (error instanceof Problem && error.code === "shift_open") await loadTill();
    const box = $(alertId) || alertBox;
    if ($(alertId) && form && document.contains(form)) showFormProblem(form, box, error);
    else if ($(alertId)) {
      showAlert(box, error, board.t);
      box.focus();
    }
    return null;
  } finally {
    buttons.forEach((button) => (button.disabled = false)); // those drawn anew are new ones
  }
}

async function addPlace(event) {
  event.preventDefault();
  const name = $("workplace-name").value.trim();
  const place = await change("workplace-alert", $("workplace-new"),
    () => board.staffCall(API.staff, board.storePath("/workplaces"), { method: "POST", body: { name } }),
    (made) => t("till.place_added", { name: made.name }));
  if (place) $("workplace-name").value = "";
}

async function registerTerminal(event, place) {
  event.preventDefault();
  const form = event.target;
  const values = formValues(form);
  const body = { provider: values.provider, model: values.model.trim(), serial_number: values.serial_number.trim() };
  if (values.terminal_id.trim()) body.terminal_id = values.terminal_id.trim();
  if (values.provider === "stripe_terminal") body.registration_code = values.registration_code.trim();
  const registered = await change(`reg-${place.id}-alert`, form, async () => {
    const terminal = await board.staffCall(API.staff, placePath(place.id, "/terminals"), { method: "POST", body });
    form.reset(); // drafts are read from the form when the workplaces are drawn again: this one is done
    form.closest("details").open = false;
    return terminal;
  }, (terminal) => t("till.registered", { terminal: terminalName(terminal) }));
  if (registered) $(`check-${registered.id}`)?.focus();
}

function removeTerminal(place, terminal) {
  return change(`wp-${place.id}-alert`, null,
    () => board.staffCall(API.staff, placePath(place.id, `/terminals/${encodeURIComponent(terminal.id)}`), { method: "DELETE" }),
    () => t("till.removed", { terminal: terminalName(terminal) }));
}

/** Never blocks a sale: the answer is the provider's word on the reader now, shown with its time. */
async function checkTerminal(place, terminal) {
  const alertBox = $(`wp-${place.id}-alert`);
  clearProblem(alertBox.parentElement, alertBox);
  try {
    const check = await board.staffCall(API.staff, placePath(place.id, `/terminals/${encodeURIComponent(terminal.id)}/check`), { method: "POST" });
    Object.assign(terminal, { status: check.status, last_check: check });
    renderPlaces();
    say(t("till.checked", { terminal: terminalName(terminal), status: t(`till.status.${check.status}`), detail: check.detail }));
  } catch (error) {
    showAlert(alertBox, error, board.t);
  }
}

async function openShift(place) {
  await change(`wp-${place.id}-alert`, null,
    () => board.staffCall(API.staff, placePath(place.id, "/shifts"), { method: "POST" }),
    () => t("till.shift_opened", { place: place.name }));
  $(`wp-${place.id}-close`)?.focus();
}

async function closeShift(place) {
  const closed = await change(`wp-${place.id}-alert`, null,
    () => board.staffCall(API.staff, placePath(place.id, `/shifts/${encodeURIComponent(place.open_shift_id)}/close`), { method: "POST" }),
    () => t("till.shift_closed", { place: place.name }));
  if (closed) await showReport(closed);
}

// ---- a closed shift's reconciliation -------------------------------------------------------------

/** Shown above the workplaces (printed alone); the orders a mismatch names are read for their numbers. */
async function showReport(shift) {
  till.report = shift;
  const named = shift.terminals.flatMap((terminal) => terminal.mismatches.map((mismatch) => mismatch.order_id))
    .filter((order) => order && !till.orderNumbers.has(order));
  await Promise.all(named.map((order) => board.staffCall(API.staff, board.storePath(`/orders/${encodeURIComponent(order)}`))
    .then((found) => till.orderNumbers.set(order, found.number), () => null)));
  if (till.report !== shift || !$("till")) return;
  renderReport();
  $("report-title").focus();
}

function hideReport() {
  const shift = till.report;
  till.report = null;
  renderReport();
  document.querySelector(`[data-shift="${CSS.escape(shift.id)}"] button`)?.focus();
}

function renderReport() {
  const box = $("shift-report");
  const shift = till.report;
  box.hidden = !shift;
  if (!shift) return fill(box);
  const place = till.workplaces.find((found) => found.id === shift.workplace_id);
  fill(box,
    h("h2", { id: "report-title", tabindex: "-1" }, t("till.report_title", { place: place?.name || shift.workplace_id })),
    till.menu ? h("p", { class: "report-store" }, till.menu.store.name) : null,
    h("p", {}, t("till.report_times", {
      opened: at(shift.opened_at), opened_by: shift.opened_by, closed: at(shift.closed_at), closed_by: shift.closed_by || "–",
    })),
    h("p", { id: "report-verdict", class: `verdict ${shift.matched ? "matched" : "mismatched"}` },
      h("strong", {}, t(shift.matched ? "till.all_matched" : "till.not_matched"))),
    shift.terminals.length ? shift.terminals.map(terminalReport) : h("p", { class: "note" }, t("till.no_terminals_in_shift")),
    h("p", { class: "actions no-print" },
      h("button", { type: "button", id: "report-print", class: "primary", onclick: () => window.print() }, t("till.print")),
      h("button", { type: "button", id: "report-close", onclick: hideReport }, t("till.close_report"))));
}

function terminalReport(reconciled) {
  const terminal = till.workplaces.flatMap((place) => place.terminals).find((found) => found.id === reconciled.terminal_id);
  const { provider, tresen } = reconciled;
  const brands = [...new Set([...Object.keys(provider.by_brand), ...Object.keys(tresen.by_brand)])].sort();
  const none = { count: 0, amount: 0 };
  const cells = (ours, theirs) => [
    h("td", { class: "num" }, String(ours.count)), h("td", { class: "num" }, m(ours.amount)),
    h("td", { class: "num side" }, String(theirs.count)), h("td", { class: "num" }, m(theirs.amount)),
  ];
  const differs = (a, b) => a.count !== b.count || a.amount !== b.amount;
  const id = `rec-${reconciled.terminal_id}`;
  return h("section", { class: "reconciliation", "data-terminal": reconciled.terminal_id, "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title` }, terminal
      ? [terminalName(terminal), terminal.terminal_id ? ` · ${t("till.tid", { tid: terminal.terminal_id })}` : ""].join("")
      : reconciled.terminal_id),
    h("p", { class: `verdict ${reconciled.matched ? "matched" : "mismatched"}` },
      h("strong", {}, t(reconciled.matched ? "till.terminal_matched" : "till.terminal_mismatched"))),
    h("table", { id },
      h("caption", {}, t("till.versus")),
      h("colgroup", {}), h("colgroup", { span: 2 }), h("colgroup", { span: 2 }),
      h("thead", {},
        h("tr", {}, h("th", { scope: "col", rowspan: 2 }, t("till.brand")),
          h("th", { scope: "colgroup", colspan: 2, class: "num" }, t("till.side.terminal")),
          h("th", { scope: "colgroup", colspan: 2, class: "num side" }, t("till.side.tresen"))),
        h("tr", {}, ...["count", "amount", "count", "amount"].map((key, i) => h("th", { scope: "col", class: i === 2 ? "num side" : "num" }, t(`till.${key}`))))),
      h("tbody", {}, ...brands.map((brand) => {
        const ours = provider.by_brand[brand] || none;
        const theirs = tresen.by_brand[brand] || none;
        return h("tr", { "data-brand": brand, class: differs(ours, theirs) ? "differs" : null }, h("th", { scope: "row" }, brandName(brand)), ...cells(ours, theirs));
      })),
      h("tfoot", {}, h("tr", { class: differs(provider, tresen) ? "differs" : null }, h("th", { scope: "row" }, t("till.total")), ...cells(provider, tresen)))),
    reconciled.mismatches.length
      ? h("ul", { class: "mismatches" }, ...reconciled.mismatches.map((mismatch) => h("li", {}, mismatchWords(mismatch))))
      : null);
}

function mismatchWords(mismatch) {
  const order = mismatch.order_id && (till.orderNumbers.has(mismatch.order_id) ? `#${till.orderNumbers.get(mismatch.order_id)}` : mismatch.order_id);
  const values = { amount: m(mismatch.amount), ref: mismatch.provider_ref || "–", order: order || "–" };
  if (mismatch.kind === "provider_only") return t("till.only_terminal", values);
  if (mismatch.kind === "tresen_only") return t("till.only_tresen", values);
  return t("till.amount_differs", { ...values, tresen: m(mismatch.tresen_amount ?? 0) });
}

// ---- a card payment at the counter ---------------------------------------------------------------

/** The terminals a card payment can be taken at: those of the workplaces with an open shift. */
function openTerminals() {
  return till.workplaces.filter((place) => place.open_shift_id)
    .flatMap((place) => place.terminals.map((terminal) => ({ place, terminal })));
}

// what the counter sells by card here: gift cards are sold in their own tab
const products = () => (till.menu?.products || []).filter((product) => product.kind === "item" && product.available);
const chosenTotal = () => products().reduce((sum, product) => sum + product.price * (till.quantities.get(product.id) || 0), 0);

function renderSaleForm() {
  const form = $("sale-form");
  const store = till.menu?.store;
  if (!store) return fill(form);
  if (!store.payment_methods.includes("card_present")) return fill(form, h("p", { class: "note" }, t("till.no_card_present")));
  const terminals = openTerminals();
  const chosen = $("sale-terminal")?.value;
  const offersTable = store.fulfilment_types.includes("table");
  keepingFocus(() => fill(form,
    h("fieldset", {},
      h("legend", {}, t("till.products")),
      h("ul", { class: "till-products" }, ...products().map((product) => h("li", { class: "till-product", "data-product": product.id },
        h("label", { for: `qty-${product.id}` }, product.name, " ", h("span", { class: "note" }, m(product.price, store.currency))),
        h("span", { class: "qty" },
          h("button", { type: "button", class: "small", "aria-label": t("till.less", { name: product.name }), onclick: () => step(product, -1) }, "−"),
          h("input", {
            id: `qty-${product.id}`, type: "number", inputmode: "numeric", min: 0, max: MAX_QUANTITY, value: till.quantities.get(product.id) || 0,
            "data-product": product.id, class: "line-qty",
          }),
          h("button", { type: "button", class: "small", "aria-label": t("till.more", { name: product.name }), onclick: () => step(product, 1) }, "+"))))),
      h("p", { class: "sum" }, h("span", {}, t("till.sale_total")), h("strong", { id: "sale-sum" }, m(chosenTotal(), store.currency)))),
    offersTable ? [h("label", { for: "sale-table" }, t(store.fulfilment_types.includes("pickup") ? "till.table_optional" : "till.table")),
      h("input", { id: "sale-table", "data-field": "fulfilment.table", maxlength: 100, autocomplete: "off", value: till.tableDraft || "" })] : null,
    h("label", { for: "sale-terminal" }, t("till.terminal")),
    h("select", { id: "sale-terminal", "data-field": "payment.terminal_id", disabled: !terminals.length, "aria-describedby": terminals.length ? null : "sale-no-terminal" },
      ...terminals.map(({ place, terminal }) => h("option", { value: terminal.id, selected: terminal.id === chosen },
        `${place.name} – ${terminalName(terminal)}`))),
    terminals.length ? null : h("p", { class: "notice", id: "sale-no-terminal" }, t("till.no_open_terminal")),
    h("div", { id: "sale-form-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", {}, h("button", { type: "submit", id: "sale-pay", class: "primary wide", disabled: !terminals.length }, t("till.pay")))));
}

function step(product, by) {
  setQuantity(product.id, (till.quantities.get(product.id) || 0) + by);
  $(`qty-${product.id}`).value = till.quantities.get(product.id) || 0;
}

function setQuantity(productId, quantity) {
  const bounded = Math.max(0, Math.min(MAX_QUANTITY, Number.isInteger(quantity) ? quantity : 0));
  if (bounded) till.quantities.set(productId, bounded);
  else till.quantities.delete(productId);
  till.saleAttempt = new Attempt(); // what is sent changed
  $("sale-sum").textContent = m(chosenTotal(), till.menu.store.currency);
}

function saleChanged(event) {
  const product = event.target.dataset.product;
  if (product) setQuantity(product, Number(event.target.value));
  if (event.target.id === "sale-table") till.tableDraft = event.target.value;
  till.saleAttempt = new Attempt();
}

/** A quantity typed as something else than a whole number shows what counts: the number kept. */
function showQuantity(event) {
  const product = event.target.dataset.product;
  if (product) event.target.value = till.quantities.get(product) || 0;
}

/** Fulfilled at the table where the store serves at tables and one is given (or it serves only there),
 * else picked up at the counter. */
function fulfilment(types) {
  const table = $("sale-table")?.value.trim() || "";
  return types.includes("table") && (table || !types.includes("pickup")) ? { type: "table", table } : { type: "pickup" };
}

/** One press is one attempt: its Idempotency-Key is reused by its retries and a second press while
 * it runs, and made anew once it was answered or the cart changed. */
async function payByCard(event) {
  event.preventDefault();
  const form = $("sale-form");
  const alertBox = $("sale-form-alert");
  clearProblem(form, alertBox);
  const store = till.menu.store;
  const items = [...till.quantities].map(([product_id, quantity]) => ({ product_id, quantity }));
  if (!items.length) return showProblem(form, alertBox, new Problem(422, { title: t("till.nothing_chosen") }), board.t);
  const terminalId = $("sale-terminal").value;
  const body = {
    items, fulfilment: fulfilment(store.fulfilment_types), customer: COUNTER_CUSTOMER,
    payment: { method: "card_present", terminal_id: terminalId },
  };
  $("sale-pay").disabled = true;
  try {
    const order = await till.saleAttempt.run((key) => call(API.customer, board.storePath("/orders"), { method: "POST", body, idempotencyKey: key }));
    till.saleAttempt = new Attempt();
    till.sale = { order, terminal: openTerminals().find(({ terminal }) => terminal.id === terminalId).terminal };
    till.quantities.clear();
    till.tableDraft = "";
    renderSaleForm();
    renderSale();
    $("sale-status").focus();
    followSale();
  } catch (error) {
    showFormProblem(form, alertBox, error);
  } finally {
    if ($("sale-pay")) $("sale-pay").disabled = !openTerminals().length;
  }
}

/** processing (at the terminal), declined (waits to be canceled), paid or canceled. */
function saleState(order) {
  if (order.status === "canceled" || order.payment?.status === "canceled") return "canceled";
  if (order.payment?.status === "succeeded" || order.payment_status !== "unpaid") return "paid";
  if (order.payment?.status === "failed") return "declined";
  return "processing";
}

function paymentError(text) {
  if (!text || text === DECLINED) return t("till.declined");
  return text.startsWith(READER_REFUSED) ? t("till.reader_refused", { reason: text.slice(READER_REFUSED.length) }) : text;
}

function renderSale() {
  keepingFocus(drawSale, $("sale-status"));
}

function drawSale() {
  const status = $("sale-status");
  const sale = till.sale;
  const state = sale ? saleState(sale.order) : null;
  const open = state === "processing" || state === "declined"; // one sale at a time: the next once this one is settled
  $("sale-form").hidden = open;
  status.dataset.state = state || "";
  status.dataset.order = sale?.order.id || "";
  status.className = `sale-status ${{ paid: "ok", declined: "notice", canceled: "notice" }[state] || ""}`;
  if (!sale) status.textContent = "";
  else {
    const { order, terminal } = sale;
    const amount = m(order.amount_due, order.currency);
    status.textContent = {
      processing: () => t("till.sale_processing", { amount, terminal: terminalName(terminal) }),
      paid: () => t("till.sale_paid", { amount, brand: brandName(order.payment?.brand), number: order.number }),
      declined: () => t("till.sale_declined", { error: paymentError(order.last_payment_error) }),
      canceled: () => t("till.sale_canceled", { number: order.number }),
    }[state]();
  }
  fill($("sale-actions"),
    open ? h("button", { type: "button", id: "sale-cancel", class: "danger", onclick: cancelSale }, t("till.cancel")) : null,
    state === "processing" ? h("button", { type: "button", id: "sale-refresh", onclick: refreshSale }, t("till.refresh")) : null);
  renderSimulator(state === "processing" && sale.terminal.provider === "sandbox");
}

/** The sandbox's reader has no customer: here one is played. Only a sandbox terminal has it, and
 * only the dev mode has sandbox terminals. */
function renderSimulator(shown) {
  const box = $("simulator");
  if (!shown) return fill(box);
  if ($("sim-brand")) return; // kept as it is while the same payment waits
  fill(box, h("aside", { class: "simulator", "aria-labelledby": "sim-title" },
    h("h3", { id: "sim-title" }, t("till.simulator")),
    h("p", { class: "note" }, t("till.simulator_hint")),
    h("label", { for: "sim-brand" }, t("till.card_brand")),
    h("select", { id: "sim-brand" }, ...Object.entries(BRAND_NAMES).map(([brand, name]) => h("option", { value: brand }, name))),
    h("div", { id: "sim-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { class: "actions" },
      h("button", { type: "button", id: "sim-approve", class: "primary", onclick: () => present("approve") }, t("till.approve")),
      h("button", { type: "button", id: "sim-decline", class: "danger", onclick: () => present("decline") }, t("till.decline")))));
}

async function present(outcome) {
  const alertBox = $("sim-alert");
  clearProblem($("simulator"), alertBox);
  const buttons = [$("sim-approve"), $("sim-decline")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    await call(API.customer, `/v1/sandbox/terminals/${encodeURIComponent(till.sale.terminal.id)}/present`, {
      method: "POST", body: { brand: $("sim-brand").value, outcome },
    });
    lookAtSale(); // the reader's answer reaches the order by its webhook, a moment later
  } catch (error) {
    showAlert(alertBox, error, board.t);
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

/** Asked every 1.5 s while the payment is at the terminal and the tab is open. */
function followSale() {
  clearTimeout(till.timer);
  if (till.shown && till.sale && saleState(till.sale.order) === "processing") till.timer = setTimeout(lookAtSale, SALE_POLL_MS);
}

async function lookAtSale() {
  clearTimeout(till.timer);
  const sale = till.sale;
  try {
    const order = await board.staffCall(API.staff, board.storePath(`/orders/${encodeURIComponent(sale.order.id)}`));
    if (till.sale !== sale) return;
    sale.order = order;
    $("sale-alert").hidden = true;
    renderSale();
  } catch (error) {
    if (till.sale === sale && $("till")) showAlert($("sale-alert"), error, board.t);
  }
  if (till.sale === sale) followSale();
}

/** Cancel and refresh answer the order as it is now; a cancel that came too late says the order is paid. */
async function saleAction(action) {
  const sale = till.sale;
  const alertBox = $("sale-alert");
  clearProblem($("sale-actions"), alertBox);
  const buttons = [...$("sale-actions").querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    sale.order = await board.staffCall(API.staff, board.storePath(`/orders/${encodeURIComponent(sale.order.id)}/payment/${action}`), { method: "POST" });
  } catch (error) {
    buttons.forEach((button) => (button.disabled = false));
    showAlert(alertBox, error, board.t);
    alertBox.focus();
    if (error instanceof Problem && error.code === "payment_completed") await lookAtSale();
    return;
  }
  if (till.sale !== sale) return;
  renderSale();
  followSale();
  if (!$("sale-form").hidden) $("sale-status").focus();
}

const cancelSale = () => saleAction("cancel");
const refreshSale = () => saleAction("refresh");
