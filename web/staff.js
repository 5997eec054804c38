// The staff board (tablet first): sign in, follow the orders live, act on them, gift cards, closing.
// In dev the sign-in makes an unsigned ID token as the Firebase Auth emulator issues them; in
// production it signs in through Firebase Auth's REST API (no SDK: nothing is loaded from elsewhere).
import {
  API, Attempt, FIREBASE, Problem, call, clearProblem, fill, h, makeTranslator, money, parseCents, showAlert, showProblem, time, translateStatic,
} from "./common.js";

const STRINGS = {
  de: {
    title: "Tresen – Personal", sign_in: "Anmelden", sign_out: "Abmelden",
    dev_hint: "Entwicklung: Anmeldung mit einem unsignierten Token, wie der Auth-Emulator es ausstellt.",
    user_id: "Benutzer-ID", role: "Rolle", email: "E-Mail", password: "Passwort", store: "Geschäft",
    "role.staff": "Personal", "role.supervisor": "Schichtleitung", "role.owner": "Inhaber", "role.finance": "Buchhaltung",
    no_access: "Dieses Konto hat keinen Zugang zu diesem Geschäft.", session_expired: "Bitte erneut anmelden.",
    sign_in_failed: "Anmeldung fehlgeschlagen: E-Mail oder Passwort stimmen nicht.",
    board: "Bestellungen", giftcards: "Gutscheine", closing: "Tagesabschluss",
    "column.awaiting_payment": "Wartet auf Zahlung", "column.new": "Neu", "column.accepted": "In Arbeit", "column.ready": "Abholbereit",
    accept: "Annehmen", mark_ready: "Fertig", complete: "Abgeholt", reject: "Ablehnen", details: "Details",
    updated: "Aktualisiert {time}", order_title: "Bestellung {number} – {name}",
    "status.awaiting_payment": "wartet auf Zahlung", "status.paid": "bezahlt", "status.placed": "an der Kasse zu zahlen",
    "status.accepted": "angenommen", "status.ready": "abholbereit", "status.completed": "abgeschlossen",
    "status.canceled": "storniert", "status.rejected": "abgelehnt",
    "payment.unpaid": "offen", "payment.paid": "bezahlt", "payment.partially_refunded": "teilweise erstattet",
    "payment.refunded": "erstattet", "payment.mismatch": "Betrag weicht ab – prüfen!",
    "fulfilment.pickup": "Abholung", "fulfilment.table": "Tisch {table}", "fulfilment.delivery": "Lieferung",
    status: "Status", payment_status: "Zahlung", invoice_number: "Rechnungsnummer", total: "Summe",
    amount_due: "Zu zahlen", paid: "Bezahlt", refunded: "Erstattet",
    "refund.pending": "beim Zahlungsanbieter in Bearbeitung", "refund.succeeded": "erledigt", "refund.failed": "fehlgeschlagen", item: "Artikel", qty: "Menge", amount: "Betrag",
    selected_qty: "Auswahl {name}",
    refund: "Erstatten", refund_title: "Erstattung", by_lines: "Ausgewählte Positionen", by_amount: "Betrag",
    amount_eur: "Betrag (€)", reason: "Grund", refund_to: "Erstatten auf", "to.original": "Ursprüngliche Zahlung",
    "to.giftcard": "Gutschein", void_title: "Positionen entfernen (unbezahlt)", void: "Ausgewählte entfernen",
    discount_title: "Rabatt (unbezahlt)", percent: "Prozent", give_discount: "Rabatt geben",
    reject_title: "Bestellung ablehnen", reject_hint: "Eine bezahlte Bestellung wird dabei voll erstattet.",
    passkey: "Passkey (6 Ziffern)", passkey_needed: "Diese Aktion braucht den Passkey: bitte eingeben und erneut ausführen.",
    done_refund: "Erstattet: {amount} ({status}).", done: "Erledigt.", close: "Schließen",
    nothing_selected: "Bitte Positionen oder einen Betrag wählen.", amount_invalid: "Bitte einen Betrag wie 12,50 eingeben.",
    sell_card: "Gutschein verkaufen", sell: "Verkaufen", card_balance_redeem: "Guthaben und Einlösen",
    card_code: "Gutscheincode", show_balance: "Guthaben anzeigen", redeem: "Einlösen",
    sold: "Verkauft über {amount}, gültig bis {expires}. Code:",
    card: "Gutschein {code}: {status}, Guthaben {balance}, gültig bis {expires}.",
    redeemed: "Eingelöst: {amount}. Neues Guthaben: {balance}.",
    "card.active": "aktiv", "card.deactivated": "gesperrt", "card.expired": "abgelaufen", "card.pending": "noch nicht bezahlt",
    close_day: "Tag abschließen", close_hint: "Schließt alles seit dem letzten Abschluss ab und erstellt den Z-Bon.",
    close_now: "Jetzt abschließen", closings: "Abschlüsse", z: "Z-Nr.", business_day: "Geschäftstag",
    gross: "Umsatz brutto", pdf: "PDF", open_pdf: "Z-Bon (PDF) öffnen", closed: "Abschluss Z {z} erstellt: Umsatz {gross}.",
    no_closings: "Noch keine Abschlüsse.", exports: "Exporte für die Buchhaltung", from: "Von", to: "Bis",
    "export.datev": "DATEV-Buchungsstapel", "export.dsfinvk": "DSFinV-K", "export.gobd": "GoBD (Z3)",
    stripe: "Stripe", stripe_title: "Kartenzahlung mit Stripe",
    stripe_hint: "Stripe fragt nach dem Geschäft, der Inhaberin oder dem Inhaber und dem Bankkonto und schickt Sie danach hierher zurück.",
    stripe_set_up: "Stripe einrichten", stripe_continue: "Einrichtung fortsetzen", stripe_to_stripe: "Weiter zu Stripe …",
    stripe_none: "Noch kein Stripe-Konto: Kartenzahlungen sind noch nicht möglich.",
    stripe_takes_cards: "Dieses Geschäft nimmt Kartenzahlungen mit Stripe an.",
    stripe_not_yet: "Die Einrichtung bei Stripe ist noch nicht abgeschlossen: Kartenzahlungen sind noch nicht möglich.",
    stripe_charges: "Kartenzahlungen", stripe_payouts: "Auszahlungen", stripe_due: "Stripe braucht noch",
    stripe_account: "Stripe-Konto", stripe_fee: "Plattformgebühr", stripe_fee_value: "{percent} % + {fixed} je Zahlung",
    stripe_on: "aktiv", stripe_off: "noch nicht möglich", stripe_nothing_due: "nichts",
    stripe_returned: "Zurück von Stripe: der Stand unten ist aktualisiert.",
    stripe_refresh: "Der Link zu Stripe war abgelaufen oder schon benutzt. Bitte die Einrichtung erneut starten.",
    "due.business_profile.url": "Website des Geschäfts", "due.business_profile.mcc": "Branche des Geschäfts",
    "due.external_account": "Bankkonto für Auszahlungen", "due.tos_acceptance.date": "Zustimmung zu Stripes Nutzungsbedingungen",
    "due.tos_acceptance.ip": "Zustimmung zu Stripes Nutzungsbedingungen",
    offline_title: "Keine Verbindung.", offline_detail: "Bitte erneut versuchen – nichts wird doppelt gebucht.",
    error_title: "Das hat nicht geklappt.",
  },
  en: {
    title: "Tresen – Staff", sign_in: "Sign in", sign_out: "Sign out",
    dev_hint: "Development: sign in with an unsigned token, as the Auth emulator issues them.",
    user_id: "User id", role: "Role", email: "E-mail", password: "Password", store: "Store",
    "role.staff": "Staff", "role.supervisor": "Supervisor", "role.owner": "Owner", "role.finance": "Finance",
    no_access: "This account has no access to this store.", session_expired: "Please sign in again.",
    sign_in_failed: "Sign-in failed: wrong e-mail or password.",
    board: "Orders", giftcards: "Gift cards", closing: "Closing",
    "column.awaiting_payment": "Awaiting payment", "column.new": "New", "column.accepted": "In progress", "column.ready": "Ready",
    accept: "Accept", mark_ready: "Ready", complete: "Picked up", reject: "Reject", details: "Details",
    updated: "Updated {time}", order_title: "Order {number} – {name}",
    "status.awaiting_payment": "awaiting payment", "status.paid": "paid", "status.placed": "to pay at the counter",
    "status.accepted": "accepted", "status.ready": "ready", "status.completed": "completed",
    "status.canceled": "canceled", "status.rejected": "rejected",
    "payment.unpaid": "unpaid", "payment.paid": "paid", "payment.partially_refunded": "partially refunded",
    "payment.refunded": "refunded", "payment.mismatch": "amount differs – check!",
    "fulfilment.pickup": "Pickup", "fulfilment.table": "Table {table}", "fulfilment.delivery": "Delivery",
    status: "Status", payment_status: "Payment", invoice_number: "Invoice number", total: "Total",
    amount_due: "To pay", paid: "Paid", refunded: "Refunded",
    "refund.pending": "in progress at the payment provider", "refund.succeeded": "done", "refund.failed": "failed", item: "Item", qty: "Qty", amount: "Amount",
    selected_qty: "Selected {name}",
    refund: "Refund", refund_title: "Refund", by_lines: "Selected lines", by_amount: "Amount",
    amount_eur: "Amount (€)", reason: "Reason", refund_to: "Refund to", "to.original": "Original payment",
    "to.giftcard": "Gift card", void_title: "Remove lines (unpaid)", void: "Remove selected",
    discount_title: "Discount (unpaid)", percent: "Percent", give_discount: "Give discount",
    reject_title: "Reject order", reject_hint: "A paid order is refunded in full.",
    passkey: "Passkey (6 digits)", passkey_needed: "This action needs the passkey: enter it and try again.",
    done_refund: "Refunded: {amount} ({status}).", done: "Done.", close: "Close",
    nothing_selected: "Choose lines or an amount.", amount_invalid: "Enter an amount such as 12.50.",
    sell_card: "Sell a gift card", sell: "Sell", card_balance_redeem: "Balance and redeem",
    card_code: "Gift card code", show_balance: "Show balance", redeem: "Redeem",
    sold: "Sold for {amount}, valid until {expires}. Code:",
    card: "Gift card {code}: {status}, balance {balance}, valid until {expires}.",
    redeemed: "Redeemed: {amount}. New balance: {balance}.",
    "card.active": "active", "card.deactivated": "deactivated", "card.expired": "expired", "card.pending": "not paid yet",
    close_day: "Close the day", close_hint: "Closes everything since the previous closing and makes the Z-report.",
    close_now: "Close now", closings: "Closings", z: "Z no.", business_day: "Business day",
    gross: "Gross sales", pdf: "PDF", open_pdf: "Open Z-report (PDF)", closed: "Closing Z {z} made: gross sales {gross}.",
    no_closings: "No closings yet.", exports: "Exports for the accountant", from: "From", to: "To",
    "export.datev": "DATEV batch", "export.dsfinvk": "DSFinV-K", "export.gobd": "GoBD (Z3)",
    stripe: "Stripe", stripe_title: "Card payments with Stripe",
    stripe_hint: "Stripe asks about the business, its owner and its bank account, then sends you back here.",
    stripe_set_up: "Set up Stripe", stripe_continue: "Continue setup", stripe_to_stripe: "On to Stripe …",
    stripe_none: "No Stripe account yet: card payments are not possible yet.",
    stripe_takes_cards: "This store takes card payments with Stripe.",
    stripe_not_yet: "The setup at Stripe is not finished: card payments are not possible yet.",
    stripe_charges: "Card payments", stripe_payouts: "Payouts", stripe_due: "Stripe still needs",
    stripe_account: "Stripe account", stripe_fee: "Platform fee", stripe_fee_value: "{percent} % + {fixed} per payment",
    stripe_on: "active", stripe_off: "not possible yet", stripe_nothing_due: "nothing",
    stripe_returned: "Back from Stripe: the state below is up to date.",
    stripe_refresh: "The link to Stripe had expired or was used already. Please start the setup again.",
    "due.business_profile.url": "The business's website", "due.business_profile.mcc": "The business's line of trade",
    "due.external_account": "A bank account for payouts", "due.tos_acceptance.date": "Accepting Stripe's terms of service",
    "due.tos_acceptance.ip": "Accepting Stripe's terms of service",
    offline_title: "No connection.", offline_detail: "Please try again – nothing is booked twice.",
    error_title: "That did not work.",
  },
};
const DEV_PROJECT = "demo-tresen"; // the dev mode's Firebase project id
const COLUMNS = { awaiting_payment: ["awaiting_payment"], new: ["paid", "placed"], accepted: ["accepted"], ready: ["ready"] };
const NEXT_STEP = { paid: ["accepted", "accept"], placed: ["accepted", "accept"], accepted: ["ready", "mark_ready"], ready: ["completed", "complete"] };
const POLL_MS = 3000;
const RENEW_BEFORE_S = 300;
const PASSKEY_CODES = new Set(["passkey_required", "passkey_invalid", "passkey_locked"]);
const TABS = ["board", "giftcards", "closing", "stripe"];
const STRIPE_ROLES = ["owner", "supervisor"];
const NO_STRIPE = new Set(["connect_disabled", "provider_not_ready"]); // a deployment without Stripe (Connect)

const t = makeTranslator(STRINGS);
const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("tresen.staff") || "null");
let boardTimer = null;
let currentOrder = null;
let detailAttempt = new Attempt();
let stripeAccount = null; // the store's account as the API last answered it
// Stripe's onboarding sends the owner back with ?stripe=return, or ?stripe=refresh when its link was spent
let stripeBack = ["return", "refresh"].includes(new URLSearchParams(location.search).get("stripe"))
  ? new URLSearchParams(location.search).get("stripe") : null;
const formAttempts = new Map(); // form id → the Attempt its next submit belongs to

const m = (cents, currency = "EUR") => money(cents, currency, t.lang());
const storePath = (suffix = "") => `/v1/stores/${encodeURIComponent(session.store)}${suffix}`;

// ---- signing in ----------------------------------------------------------------------------------

function base64url(text) {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

/** What the Auth emulator issues (alg none): the API accepts it in dev mode only. */
function devToken(uid, store, role) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud: DEV_PROJECT, iss: `https://securetoken.google.com/${DEV_PROJECT}`, sub: uid, user_id: uid,
    iat: now, auth_time: now, exp: now + 3600, stores: { [store]: role },
  };
  return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
}

/** Firebase Auth's REST API: JSON for signing in, a form for renewing (as Google documents each). */
async function firebaseRequest(url, body) {
  const form = body instanceof URLSearchParams;
  const init = form ? { body } : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await fetch(url, { method: "POST", ...init });
  if (!response.ok) throw new Problem(response.status, { title: t("sign_in_failed") });
  return response.json();
}

async function firebaseSignIn(email, password) {
  const answer = await firebaseRequest(
    `https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=${encodeURIComponent(FIREBASE.apiKey)}`,
    { email, password, returnSecureToken: true });
  return { token: answer.idToken, refreshToken: answer.refreshToken };
}

/** A valid ID token: renewed a few minutes before it expires (Firebase's last an hour). The
 * board's parallel calls share one renewal: a refresh token is spent once. */
let renewal = null;

async function idToken() {
  const expires = claimsOf(session.token).exp;
  if (expires - Date.now() / 1000 > RENEW_BEFORE_S) return session.token;
  renewal ??= renewToken().finally(() => (renewal = null));
  return renewal;
}

async function renewToken() {
  if (FIREBASE) {
    const answer = await firebaseRequest(
      `https://securetoken.googleapis.com/v1/token?key=${encodeURIComponent(FIREBASE.apiKey)}`,
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: session.refreshToken }));
    session.token = answer.id_token;
    session.refreshToken = answer.refresh_token;
  } else {
    session.token = devToken(session.uid, session.store, session.role);
  }
  sessionStorage.setItem("tresen.staff", JSON.stringify(session));
  return session.token;
}

async function signIn(event) {
  event.preventDefault();
  const form = $("sign-in");
  clearProblem(form, $("sign-in-alert"));
  const store = $("store").value.trim();
  try {
    const signedIn = FIREBASE
      ? await firebaseSignIn($("email").value.trim(), $("password").value)
      : { token: devToken($("dev-uid").value.trim(), store, $("dev-role").value) };
    const claims = claimsOf(signedIn.token);
    const role = (claims.stores || {})[store];
    if (!role) throw new Problem(403, { title: t("no_access") });
    session = { ...signedIn, uid: claims.user_id || claims.sub, store, role };
    sessionStorage.setItem("tresen.staff", JSON.stringify(session));
    showWorkspace();
  } catch (error) {
    showProblem(form, $("sign-in-alert"), error, t);
  }
}

function signOut(message) {
  session = null;
  sessionStorage.removeItem("tresen.staff");
  clearTimeout(boardTimer);
  stripeAccount = stripeBack = null;
  $("tab-stripe").hidden = true;
  $("workspace").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  $("sign-in").hidden = false;
  if (message) {
    $("sign-in-alert").textContent = message;
    $("sign-in-alert").hidden = false;
  }
}

/** An API call as the signed-in member of staff; an expired or revoked sign-in sends them back. */
async function staffCall(base, path, options = {}) {
  const headers = { ...options.headers, Authorization: `Bearer ${await idToken()}` };
  try {
    return await call(base, path, { ...options, headers });
  } catch (error) {
    if (error instanceof Problem && error.code === "unauthenticated") signOut(t("session_expired"));
    throw error;
  }
}

// ---- the board -----------------------------------------------------------------------------------

async function refreshBoard() {
  clearTimeout(boardTimer);
  if (!session) return;
  try {
    const statuses = Object.values(COLUMNS).flat();
    const pages = await Promise.all(statuses.map((status) => staffCall(API.staff, storePath(`/orders?status=${status}&limit=100`))));
    const byStatus = Object.fromEntries(statuses.map((status, i) => [status, pages[i].data]));
    renderBoard(byStatus);
    $("board-updated").textContent = t("updated", { time: new Date().toLocaleTimeString(t.lang() === "en" ? "en-GB" : "de-DE") });
    $("page-alert").hidden = true;
  } catch (error) {
    if (session) showAlert($("page-alert"), error, t);
  }
  if (session && !$("board-panel").hidden) boardTimer = setTimeout(refreshBoard, POLL_MS);
}

function renderBoard(byStatus) {
  fill($("board"), ...Object.entries(COLUMNS).map(([column, statuses]) => {
    const orders = statuses.flatMap((status) => byStatus[status]).sort((a, b) => a.created_at.localeCompare(b.created_at));
    return h("section", { class: "column", "data-column": column, "aria-label": t(`column.${column}`) },
      h("h2", {}, `${t(`column.${column}`)} (${orders.length})`), ...orders.map(ticket));
  }));
}

function ticket(order) {
  const next = NEXT_STEP[order.status];
  const where = t(`fulfilment.${order.fulfilment.type}`, { table: order.fulfilment.table || "" });
  return h("article", { class: `ticket${order.payment_status === "mismatch" ? " attention" : ""}`, "data-order": order.id, "data-number": order.number },
    h("div", { class: "head" }, h("span", {}, `#${order.number}`), h("span", {}, m(order.totals.total, order.currency))),
    order.amount_due !== order.totals.total && order.payment_status === "unpaid"
      ? h("div", { class: "note" }, `${t("amount_due")}: ${m(order.amount_due, order.currency)}`) : null,
    h("div", {}, `${order.customer.name} · ${where}`),
    h("div", { class: "note" }, t(`payment.${order.payment_status}`)),
    h("ul", {}, ...order.lines.map((line) => h("li", {}, `${line.quantity}× ${line.name}`,
      line.options.length ? ` (${line.options.map((o) => o.name).join(", ")})` : ""))),
    h("div", { class: "actions" },
      next ? h("button", { type: "button", class: "small primary", onclick: () => changeStatus(order, next[0]) }, t(next[1])) : null,
      h("button", { type: "button", class: "small", onclick: () => openDetail(order.id) }, t("details"))));
}

async function changeStatus(order, status) {
  try {
    await staffCall(API.staff, storePath(`/orders/${order.id}/status`), { method: "POST", body: { status } });
  } catch (error) {
    showAlert($("page-alert"), error, t);
  }
  await refreshBoard();
}

// ---- an order's detail: refund, void, discount, reject --------------------------------------------

async function openDetail(orderId) {
  const dialog = $("detail");
  clearProblem($("detail-form"), $("detail-alert"));
  $("detail-done").hidden = true;
  $("passkey-field").hidden = true;
  $("passkey").value = "";
  detailAttempt = new Attempt();
  currentOrder = await staffCall(API.staff, storePath(`/orders/${encodeURIComponent(orderId)}`));
  renderDetail();
  if (!dialog.open) dialog.showModal();
}

function renderDetail() {
  const order = currentOrder;
  const inOrder = (cents) => m(cents, order.currency);
  $("detail-title").textContent = t("order_title", { number: order.number, name: order.customer.name });
  const paid = ["paid", "partially_refunded"].includes(order.payment_status);
  const unpaid = order.payment_status === "unpaid" && ["awaiting_payment", "placed"].includes(order.status);
  const qtyInput = (line) => h("input", {
    type: "number", min: 0, max: line.quantity, value: 0, class: "line-qty", "data-line": line.id,
    "aria-label": t("selected_qty", { name: line.name }),
  });
  fill($("detail-body"),
    h("p", {}, `${t("status")}: ${t(`status.${order.status}`)} · ${t("payment_status")}: ${t(`payment.${order.payment_status}`)}`,
      order.invoice_number ? ` · ${t("invoice_number")}: ${order.invoice_number}` : ""),
    h("p", { class: "note" }, `${order.customer.email} · ${time(order.created_at, t.lang())}`),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("item")), h("th", { scope: "col", class: "num" }, t("qty")),
        h("th", { scope: "col", class: "num" }, t("amount")), (paid || unpaid) ? h("th", { scope: "col" }, "✓") : null)),
      h("tbody", {}, ...order.lines.map((line) => h("tr", {},
        h("td", {}, line.name, line.options.length ? h("div", { class: "note" }, line.options.map((o) => o.name).join(", ")) : null),
        h("td", { class: "num" }, String(line.quantity)), h("td", { class: "num" }, inOrder(line.total)),
        (paid || unpaid) ? h("td", {}, qtyInput(line)) : null)))),
    h("p", {}, `${t("total")}: ${inOrder(order.totals.total)} · `,
      order.payment_status === "unpaid" ? `${t("amount_due")}: ${inOrder(order.amount_due)}` : `${t("paid")}: ${inOrder(order.amount_due)}`,
      order.refunded_amount ? ` · ${t("refunded")}: ${inOrder(order.refunded_amount)}` : ""),
    paid ? refundSection() : null,
    unpaid ? voidSection() : null,
    unpaid ? discountSection() : null,
    ["paid", "placed"].includes(order.status) ? rejectSection() : null,
  );
}

function selectedLines() {
  return [...$("detail-body").querySelectorAll(".line-qty")]
    .map((input) => ({ line_id: input.dataset.line, quantity: Number(input.value) }))
    .filter((line) => Number.isInteger(line.quantity) && line.quantity > 0);
}

function refundSection() {
  return h("fieldset", { id: "refund-section" }, h("legend", {}, t("refund_title")),
    h("label", { class: "choice" }, h("input", { type: "radio", name: "refund-by", value: "lines", checked: true }), t("by_lines")),
    h("label", { class: "choice" }, h("input", { type: "radio", name: "refund-by", value: "amount" }), t("by_amount")),
    h("label", { for: "refund-amount" }, t("amount_eur")), h("input", { id: "refund-amount", "data-field": "amount", inputmode: "decimal" }),
    h("label", { for: "refund-reason" }, t("reason")), h("input", { id: "refund-reason", "data-field": "reason", maxlength: 500 }),
    h("label", { for: "refund-to" }, t("refund_to")),
    h("select", { id: "refund-to", "data-field": "to" },
      h("option", { value: "original" }, t("to.original")), h("option", { value: "giftcard" }, t("to.giftcard"))),
    h("p", {}, h("button", { type: "button", id: "refund", class: "primary", onclick: refund }, t("refund"))));
}

function voidSection() {
  return h("fieldset", {}, h("legend", {}, t("void_title")),
    h("button", { type: "button", id: "void", class: "danger", onclick: () => {
      const lines = selectedLines();
      if (!lines.length) return detailProblem(t("nothing_selected"));
      act(`/orders/${currentOrder.id}/void`, { lines });
    } }, t("void")));
}

function discountSection() {
  return h("fieldset", {}, h("legend", {}, t("discount_title")),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "discount-amount" }, t("amount_eur")), h("input", { id: "discount-amount", "data-field": "amount", inputmode: "decimal" })),
      h("div", {}, h("label", { for: "discount-percent" }, t("percent")), h("input", { id: "discount-percent", "data-field": "percent", inputmode: "numeric" }))),
    h("label", { for: "discount-reason" }, t("reason")), h("input", { id: "discount-reason", "data-field": "reason", maxlength: 500 }),
    h("p", {}, h("button", { type: "button", id: "discount", onclick: () => {
      const percent = $("discount-percent").value.trim();
      const amount = parseCents($("discount-amount").value);
      const body = percent ? { percent: Number(percent) } : { amount };
      if (!percent && amount === null) return detailProblem(t("amount_invalid"));
      act(`/orders/${currentOrder.id}/discount`, { ...body, reason: $("discount-reason").value.trim() || undefined });
    } }, t("give_discount"))));
}

function rejectSection() {
  return h("fieldset", {}, h("legend", {}, t("reject_title")), h("p", { class: "note" }, t("reject_hint")),
    h("button", { type: "button", id: "reject", class: "danger", onclick: () => act(`/orders/${currentOrder.id}/status`, { status: "rejected" }) }, t("reject")));
}

function refund() {
  const byAmount = document.querySelector("input[name=refund-by]:checked").value === "amount";
  const body = { reason: $("refund-reason").value.trim() || undefined, to: $("refund-to").value };
  if (byAmount) {
    body.amount = parseCents($("refund-amount").value);
    if (body.amount === null) return detailProblem(t("amount_invalid"));
  } else {
    body.lines = selectedLines();
    if (!body.lines.length) return detailProblem(t("nothing_selected"));
  }
  return act(`/orders/${currentOrder.id}/refunds`, body, (result) => t("done_refund", { amount: m(result.amount, currentOrder.currency), status: t(`refund.${result.status}`) }));
}

function detailProblem(message) {
  showProblem($("detail-form"), $("detail-alert"), new Problem(422, { title: message }), t);
}

/**
 * One action on the open order. Its idempotency key lives as long as the dialog's inputs stay as
 * they are, so a retry — after a dropped connection, or with the passkey the first try asked for —
 * is the same request to the server, never a second refund.
 */
async function act(path, body, describe = () => t("done")) {
  const form = $("detail-form");
  clearProblem(form, $("detail-alert"));
  $("detail-done").hidden = true;
  const passkey = $("passkey").value.trim();
  const buttons = [...$("detail-body").querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    const result = await detailAttempt.run((key) => staffCall(API.staff, storePath(path), {
      method: "POST", body, idempotencyKey: key, headers: passkey ? { "X-Passkey": passkey } : {},
    }));
    detailAttempt = new Attempt();
    $("passkey").value = "";
    $("passkey-field").hidden = true;
    currentOrder = await staffCall(API.staff, storePath(`/orders/${currentOrder.id}`));
    renderDetail();
    $("detail-done").textContent = describe(result);
    $("detail-done").hidden = false;
    refreshBoard();
  } catch (error) {
    if (error instanceof Problem && PASSKEY_CODES.has(error.code)) {
      $("passkey-field").hidden = false;
      error.detail = `${error.detail} ${t("passkey_needed")}`;
    }
    showProblem(form, $("detail-alert"), error, t);
    if (error instanceof Problem && PASSKEY_CODES.has(error.code)) $("passkey").focus();
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

// ---- gift cards ----------------------------------------------------------------------------------

function attemptFor(form) {
  if (!formAttempts.has(form.id)) formAttempts.set(form.id, new Attempt());
  return formAttempts.get(form.id);
}

const cardCode = (text) => text.toUpperCase().replace(/[\s-]/g, "");
const day = (iso) => (iso ? new Date(iso).toLocaleDateString(t.lang() === "en" ? "en-GB" : "de-DE") : "–");

async function sellCard(event) {
  event.preventDefault();
  const form = $("giftcard-sell");
  clearProblem(form, $("sell-alert"));
  const amount = parseCents($("sell-amount").value);
  if (amount === null) return showProblem(form, $("sell-alert"), new Problem(422, { title: t("amount_invalid") }), t);
  try {
    const card = await attemptFor(form).run((key) => staffCall(API.staff, storePath("/giftcards"), { method: "POST", body: { amount }, idempotencyKey: key }));
    formAttempts.delete(form.id);
    fill($("sold-card"), t("sold", { amount: m(card.balance, card.currency), expires: day(card.expires_at) }), " ",
      h("strong", { id: "sold-code", "data-code": card.code }, card.code));
    $("sold-card").className = "ok";
  } catch (error) {
    showProblem(form, $("sell-alert"), error, t);
  }
}

async function lookUpCard(event) {
  event?.preventDefault();
  const form = $("giftcard-lookup");
  clearProblem(form, $("card-alert"));
  try {
    const card = await staffCall(API.staff, `/v1/giftcards/${encodeURIComponent(cardCode($("card-code").value))}`);
    $("card-info").textContent = t("card", {
      code: card.code || cardCode($("card-code").value), status: t(`card.${card.status}`),
      balance: m(card.balance, card.currency), expires: day(card.expires_at),
    });
  } catch (error) {
    $("card-info").textContent = "";
    showProblem(form, $("card-alert"), error, t);
  }
}

async function redeemCard() {
  const form = $("giftcard-lookup");
  clearProblem(form, $("card-alert"));
  const amount = parseCents($("redeem-amount").value);
  if (amount === null) return showProblem(form, $("card-alert"), new Problem(422, { title: t("amount_invalid") }), t);
  try {
    const path = `/v1/giftcards/${encodeURIComponent(cardCode($("card-code").value))}/redeem`;
    const result = await attemptFor(form).run((key) => staffCall(API.staff, path, { method: "POST", body: { amount }, idempotencyKey: key }));
    formAttempts.delete(form.id);
    $("card-info").textContent = t("redeemed", { amount: m(amount, result.currency), balance: m(result.balance, result.currency) });
  } catch (error) {
    showProblem(form, $("card-alert"), error, t);
  }
}

// ---- closing the day -----------------------------------------------------------------------------

async function closeDay(event) {
  event.preventDefault();
  const form = $("close-form");
  clearProblem(form, $("close-alert"));
  try {
    const closing = await attemptFor(form).run((key) => staffCall(API.staff, storePath("/closings"), { method: "POST", idempotencyKey: key }));
    formAttempts.delete(form.id);
    const note = h("p", { class: "ok", role: "status", id: "closed-note" }, t("closed", { z: closing.z_number, gross: m(closing.sales.gross, closing.currency) }));
    form.after(note);
    await listClosings();
  } catch (error) {
    showProblem(form, $("close-alert"), error, t);
  }
}

async function listClosings() {
  const page = await staffCall(API.staff, storePath("/closings?limit=1000"));
  const closings = page.data.slice().reverse();
  fill($("closings"), closings.length
    ? h("table", {},
      h("thead", {}, h("tr", {}, ...["z", "business_day", "gross", "pdf"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, ...closings.map((closing) => h("tr", { "data-z": closing.z_number },
        h("td", {}, String(closing.z_number)), h("td", {}, closing.business_day), h("td", { class: "num" }, m(closing.sales.gross, closing.currency)),
        h("td", {}, h("button", { type: "button", class: "small", onclick: () => openPdf(closing.z_number) }, t("open_pdf")))))))
    : h("p", { class: "note" }, t("no_closings")));
}

/** The PDF needs the staff token, so it is fetched here and opened from memory. */
async function openPdf(z) {
  try {
    const pdf = await staffCall(API.staff, storePath(`/closings/${z}.pdf`), { as: "blob" });
    window.open(URL.createObjectURL(pdf), "_blank", "noopener");
  } catch (error) {
    showAlert($("page-alert"), error, t);
  }
}

/** DATEV, DSFinV-K or GoBD for a date range (owner and finance): saved under the API's file name. */
async function downloadExport(event) {
  event.preventDefault();
  const form = $("export-form");
  clearProblem(form, $("export-alert"));
  const kind = event.submitter.value;
  const range = new URLSearchParams({ from: $("export-from").value, to: $("export-to").value });
  try {
    const response = await staffCall(API.exports, storePath(`/export/${kind}?${range}`), { as: "response" });
    const link = $("export-file");
    link.href = URL.createObjectURL(await response.blob());
    link.download = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || `${kind}-export`;
    link.click();
  } catch (error) {
    showProblem(form, $("export-alert"), error, t);
  }
}

// ---- Stripe: may the store take card payments, what Stripe still needs; the owner sets it up -------

/** The store's account. Its tab shows once the API answers; a deployment without Stripe never shows it. */
async function loadStripe() {
  if (!session || !STRIPE_ROLES.includes(session.role)) return;
  try {
    stripeAccount = await staffCall(API.staff, storePath("/payments/stripe"));
    $("stripe-alert").hidden = true;
    renderStripe();
  } catch (error) {
    if (error instanceof Problem && NO_STRIPE.has(error.code)) {
      $("tab-stripe").hidden = true;
      if (!$("stripe-panel").hidden) selectTab("board");
      return;
    }
    showAlert($("stripe-alert"), error, t);
  }
  $("tab-stripe").hidden = false;
}

function renderStripe() {
  const account = stripeAccount;
  if (!account) return;
  const finished = account.charges_enabled && account.payouts_enabled && account.requirements_due.length === 0;
  const state = (on) => h("span", { class: on ? "on" : "off" }, t(on ? "stripe_on" : "stripe_off"));
  const due = (field) => (t.has(`due.${field}`)
    ? [t(`due.${field}`), " ", h("code", { class: "note" }, field)] : h("code", {}, field));
  const fee = account.platform_fee;
  fill($("stripe-status"),
    h("p", { id: "stripe-summary", class: account.charges_enabled ? "ok" : "notice" },
      t(!account.account_id ? "stripe_none" : account.charges_enabled ? "stripe_takes_cards" : "stripe_not_yet")),
    h("dl", { class: "facts" },
      h("dt", {}, t("stripe_charges")), h("dd", { id: "stripe-charges" }, state(account.charges_enabled)),
      h("dt", {}, t("stripe_payouts")), h("dd", { id: "stripe-payouts" }, state(account.payouts_enabled)),
      h("dt", {}, t("stripe_due")),
      h("dd", { id: "stripe-due" }, account.requirements_due.length
        ? h("ul", {}, ...account.requirements_due.map((field) => h("li", {}, due(field)))) : t("stripe_nothing_due")),
      fee ? [h("dt", {}, t("stripe_fee")), h("dd", {}, t("stripe_fee_value", { percent: fee.percent.replace(".", t.lang() === "de" ? "," : "."), fixed: m(fee.fixed) }))] : null,
      account.account_id ? [h("dt", {}, t("stripe_account")), h("dd", {}, h("code", {}, account.account_id))] : null));
  $("stripe-setup").textContent = t(account.account_id ? "stripe_continue" : "stripe_set_up");
  $("stripe-setup-box").hidden = finished && stripeBack !== "refresh";
}

/** Where Stripe's onboarding sent the owner back to: said once, then gone from the address. */
function sayWhereStripeSentUsBack() {
  const back = $("stripe-back");
  back.hidden = !stripeBack;
  if (!stripeBack) return;
  back.className = stripeBack === "return" ? "ok" : "notice";
  back.textContent = t(stripeBack === "return" ? "stripe_returned" : "stripe_refresh");
  const address = new URL(location.href);
  address.searchParams.delete("stripe");
  history.replaceState(history.state, "", address.href);
}

/** The owner is sent to Stripe's onboarding (the account is made on the first time). */
async function setUpStripe(event) {
  event.preventDefault();
  const form = $("stripe-form");
  clearProblem(form, $("stripe-alert"));
  $("stripe-setup").disabled = true;
  try {
    const link = await staffCall(API.staff, storePath("/payments/stripe/onboarding"), { method: "POST" });
    $("stripe-progress").textContent = t("stripe_to_stripe");
    location.assign(link.url);
  } catch (error) {
    showProblem(form, $("stripe-alert"), error, t);
    $("stripe-setup").disabled = false;
  }
}

// ---- start ---------------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of TABS) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-panel`).hidden = tab !== name;
  }
  if (name === "board") refreshBoard();
  if (name === "closing") listClosings().catch((error) => showProblem($("close-form"), $("close-alert"), error, t));
  if (name === "stripe") loadStripe();
}

/** Shows each member of staff what their role may do (the API decides; this spares them the 403s). */
function showWhatTheRoleMay() {
  for (const el of document.querySelectorAll("[data-roles]")) el.hidden = !el.dataset.roles.split(" ").includes(session.role);
}

function showWorkspace() {
  showWhatTheRoleMay();
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = `· ${session.store} · ${session.uid} (${t(`role.${session.role}`)})`;
  const backFromStripe = stripeBack && STRIPE_ROLES.includes(session.role)
    && [null, session.store].includes(new URLSearchParams(location.search).get("store"));
  if (backFromStripe) {
    sayWhereStripeSentUsBack();
    $("tab-stripe").hidden = false;
    selectTab("stripe");
  } else {
    $("stripe-back").hidden = true;
    selectTab("board");
    loadStripe();
  }
}

function relabel() {
  translateStatic(t);
  $("language").textContent = t.lang() === "de" ? "English" : "Deutsch";
  $("language").lang = t.lang() === "de" ? "en" : "de";
  if (session) $("who").textContent = `· ${session.store} · ${session.uid} (${t(`role.${session.role}`)})`;
  if (currentOrder && $("detail").open) renderDetail();
  renderStripe();
  if (stripeBack) $("stripe-back").textContent = t(stripeBack === "return" ? "stripe_returned" : "stripe_refresh");
}

function start() {
  relabel();
  $("sign-in-dev").hidden = Boolean(FIREBASE);
  $("sign-in-firebase").hidden = !FIREBASE;
  $("language").addEventListener("click", () => { t.toggle(); relabel(); });
  $("sign-in").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  $("detail-close").addEventListener("click", () => $("detail").close());
  $("detail-body").addEventListener("input", () => (detailAttempt = new Attempt()));
  $("giftcard-sell").addEventListener("submit", sellCard);
  $("giftcard-sell").addEventListener("input", () => formAttempts.delete("giftcard-sell"));
  $("giftcard-lookup").addEventListener("submit", lookUpCard);
  $("giftcard-lookup").addEventListener("input", () => formAttempts.delete("giftcard-lookup"));
  $("redeem").addEventListener("click", redeemCard);
  $("close-form").addEventListener("submit", closeDay);
  $("export-form").addEventListener("submit", downloadExport);
  $("stripe-form").addEventListener("submit", setUpStripe);
  window.addEventListener("pageshow", () => ($("stripe-setup").disabled = false)); // back from Stripe by the back button
  $("export-from").value = $("export-to").value = new Date().toLocaleDateString("sv"); // today, YYYY-MM-DD
  if (session) showWorkspace();
  else $("sign-in").hidden = false;
}

start();
