// The merchant portal (phone first): a store's licence invoices (PDF, paying by card or PayPal), its
// business details (what receipts and invoices name it by), the card the monthly fees are charged to,
// and its team (owners). People sign in with Firebase Auth;
// an invitation's link lets the invited person set a password, sign in and join the store at once.
import {
  API, Problem, call, clearProblem, fill, h, makeTranslator, money, showAlert, showProblem, translateStatic,
} from "./common.js";
import { claimsOf, firebaseAuth, tokenKeeper } from "./firebase_auth.js";

const STRINGS = {
  de: {
    title: "Tresen – Portal", sign_in: "Anmelden", sign_out: "Abmelden", email: "E-Mail", password: "Passwort",
    set_password: "Passwort festlegen",
    set_password_hint: "Sie wurden eingeladen. Legen Sie ein Passwort fest, um das Portal Ihres Geschäfts zu öffnen.",
    new_password: "Neues Passwort", password_hint: "Mindestens 8 Zeichen.", repeat_password: "Passwort wiederholen",
    set_password_submit: "Passwort speichern und anmelden", have_password: "Ich habe schon ein Passwort",
    need_password: "Ich habe noch kein Passwort", choose_store: "Geschäft wählen", store: "Geschäft", open: "Öffnen",
    no_store: "Dieses Konto gehört zu keinem Geschäft. Bitte lassen Sie sich einladen.",
    nothing_here: "Ihre Rolle sieht im Portal nichts: Rechnungen sehen Inhaber und Buchhaltung.",
    session_expired: "Bitte erneut anmelden.",
    invoices: "Rechnungen", no_invoices: "Noch keine Rechnungen.", open_amount: "Offen: {amount}", nothing_open: "Nichts offen.",
    invoice: "Rechnung {number}", month: "Monat", gross: "Betrag", due: "Fällig am", status: "Status", paid_on: "Bezahlt am",
    "invoice.open": "offen", "invoice.paid": "bezahlt", "invoice.overdue": "überfällig",
    pdf: "PDF", pay_card: "Mit Karte bezahlen", pay_paypal: "Mit PayPal bezahlen", to_provider: "Weiter zur Zahlung …",
    "paid.arrived": "Zahlung eingegangen – die Rechnung wird gleich als bezahlt angezeigt.",
    "paid.done": "Zahlung eingegangen: die Rechnung ist bezahlt.",
    "paid.late": "Die Zahlung ist noch nicht bestätigt. Bitte laden Sie die Seite in ein paar Minuten neu.",
    card_title: "Karte für Lizenzgebühren", card_on_file: "{brand} •••• {last4}, gültig bis {expiry}",
    no_card: "Noch keine Karte hinterlegt: Rechnungen werden einzeln bezahlt.",
    mandate_title: "Einzugsermächtigung", agree: "Ich stimme zu", save_card: "Karte speichern",
    "card.arrived": "Karte gespeichert – sie wird gleich angezeigt.", "card.done": "Karte gespeichert.",
    "card.late": "Die Karte ist noch nicht bestätigt. Bitte laden Sie die Seite in ein paar Minuten neu.",
    profile: "Geschäftsdaten", profile_hint: "So nennen Belege, Kassenabschlüsse und Lizenzrechnungen Ihr Geschäft.",
    store_name: "Name des Geschäfts", street: "Straße und Hausnummer", postal_code: "PLZ", city: "Ort", address: "Anschrift",
    tax_number: "Steuernummer", vat_id: "USt-IdNr.", vat_id_hint: "Mit Ländercode, z. B. DE123456789.",
    not_given: "nicht angegeben", save: "Speichern", saved: "Gespeichert.",
    team: "Team", members: "Mitglieder", pending_invitations: "Offene Einladungen", no_invitations: "Keine offenen Einladungen.",
    role: "Rolle", role_of: "Rolle von {email}", since: "seit {date}", valid_until: "gültig bis {date}",
    remove: "Entfernen", remove_title: "{email} aus dem Team entfernen?",
    remove_what: "Die Person kann danach nicht mehr für dieses Geschäft handeln. Sie lässt sich wieder einladen.",
    cancel: "Abbrechen", revoke: "Zurückziehen", invite: "Jemanden einladen", send_invitation: "Einladung senden",
    invited: "Einladung an {email} gesendet.", revoked: "Einladung an {email} zurückgezogen.",
    removed: "{email} gehört nicht mehr zum Team.", role_changed: "{email} ist jetzt {role}.",
    "role.staff": "Personal", "role.supervisor": "Schichtleitung", "role.owner": "Inhaber", "role.finance": "Buchhaltung",
    "field.email": "Bitte eine gültige E-Mail-Adresse eingeben.",
    "field.name": "Bitte den Namen des Geschäfts angeben (höchstens 200 Zeichen).",
    "field.address.street": "Bitte Straße und Hausnummer angeben (höchstens 200 Zeichen).",
    "field.address.postal_code": "Bitte eine fünfstellige PLZ angeben.",
    "field.address.city": "Bitte den Ort angeben (höchstens 200 Zeichen).",
    "field.tax_number": "Die Steuernummer hat höchstens 40 Zeichen.",
    "field.vat_id": "Ländercode und 2 bis 13 Buchstaben oder Ziffern, z. B. DE123456789.",
    "problem.sign_in_failed": "Anmeldung fehlgeschlagen: E-Mail oder Passwort stimmen nicht.",
    "problem.account_disabled": "Dieses Konto ist gesperrt.",
    "problem.too_many_attempts": "Zu viele Versuche. Bitte warten Sie ein paar Minuten.",
    "problem.link_used": "Dieser Link ist abgelaufen oder wurde schon benutzt. Melden Sie sich mit Ihrem Passwort an oder lassen Sie sich erneut einladen.",
    "problem.weak_password": "Dieses Passwort ist zu schwach. Bitte ein längeres wählen.",
    "problem.session_expired": "Bitte erneut anmelden.",
    "problem.password_short": "Das Passwort braucht mindestens 8 Zeichen.",
    "problem.passwords_differ": "Die beiden Passwörter stimmen nicht überein.",
    "problem.mandate_needed": "Bitte stimmen Sie zuerst der Einzugsermächtigung zu.",
    "problem.invitation_gone": "Diese Einladung wurde schon angenommen, zurückgezogen oder ist abgelaufen.",
    "problem.invitation_email_mismatch": "Diese Einladung ging an eine andere E-Mail-Adresse. Bitte melden Sie sich mit der eingeladenen Adresse an.",
    "problem.unauthenticated": "Bitte erneut anmelden.",
    "problem.forbidden": "Ihre Rolle erlaubt das in diesem Geschäft nicht.",
    "problem.store_not_found": "Dieses Geschäft gibt es nicht.",
    "problem.invoice_not_found": "Diese Rechnung gibt es nicht.",
    "problem.invoice_paid": "Diese Rechnung ist schon bezahlt.",
    "problem.email_taken": "Diese E-Mail-Adresse gehört schon zu einem anderen Geschäft.",
    "problem.already_member": "Diese Person gehört schon zum Team.",
    "problem.last_owner": "Ein Geschäft braucht mindestens einen Inhaber: bitte erst eine andere Person zum Inhaber machen.",
    "problem.member_not_found": "Diese Person gehört nicht mehr zum Team.",
    "problem.invitation_not_found": "Diese Einladung gibt es nicht mehr.",
    "problem.validation_failed": "Bitte die markierten Angaben prüfen.",
    "problem.service_unavailable": "Der Dienst ist gerade nicht erreichbar. Bitte gleich noch einmal versuchen.",
    "problem.internal_error": "Das hat nicht geklappt. Bitte später noch einmal versuchen.",
    offline_title: "Keine Verbindung.", offline_detail: "Bitte erneut versuchen.", error_title: "Das hat nicht geklappt.",
  },
  en: {
    title: "Tresen – Portal", sign_in: "Sign in", sign_out: "Sign out", email: "E-mail", password: "Password",
    set_password: "Set your password",
    set_password_hint: "You have been invited. Set a password to open your store's portal.",
    new_password: "New password", password_hint: "At least 8 characters.", repeat_password: "Repeat the password",
    set_password_submit: "Save the password and sign in", have_password: "I already have a password",
    need_password: "I have no password yet", choose_store: "Choose a store", store: "Store", open: "Open",
    no_store: "This account belongs to no store. Please ask to be invited.",
    nothing_here: "Your role sees nothing in the portal: owners and finance see the invoices.",
    session_expired: "Please sign in again.",
    invoices: "Invoices", no_invoices: "No invoices yet.", open_amount: "Open: {amount}", nothing_open: "Nothing open.",
    invoice: "Invoice {number}", month: "Month", gross: "Amount", due: "Due", status: "Status", paid_on: "Paid on",
    "invoice.open": "open", "invoice.paid": "paid", "invoice.overdue": "overdue",
    pdf: "PDF", pay_card: "Pay by card", pay_paypal: "Pay with PayPal", to_provider: "On to the payment …",
    "paid.arrived": "Payment received – the invoice will show as paid in a moment.",
    "paid.done": "Payment received: the invoice is paid.",
    "paid.late": "The payment is not confirmed yet. Please reload the page in a few minutes.",
    card_title: "Card for the licence fees", card_on_file: "{brand} •••• {last4}, valid until {expiry}",
    no_card: "No card saved yet: invoices are paid one by one.",
    mandate_title: "Direct debit mandate", agree: "I agree", save_card: "Save card",
    "card.arrived": "Card saved – it will show in a moment.", "card.done": "Card saved.",
    "card.late": "The card is not confirmed yet. Please reload the page in a few minutes.",
    profile: "Business details", profile_hint: "What receipts, Z-reports and licence invoices name your store by.",
    store_name: "Store name", street: "Street and number", postal_code: "Postcode", city: "Town", address: "Address",
    tax_number: "Tax number (Steuernummer)", vat_id: "VAT ID (USt-IdNr.)", vat_id_hint: "With its country code, e.g. DE123456789.",
    not_given: "not given", save: "Save", saved: "Saved.",
    team: "Team", members: "Members", pending_invitations: "Pending invitations", no_invitations: "No pending invitations.",
    role: "Role", role_of: "Role of {email}", since: "since {date}", valid_until: "valid until {date}",
    remove: "Remove", remove_title: "Remove {email} from the team?",
    remove_what: "They can no longer act for this store. They can be invited again.",
    cancel: "Cancel", revoke: "Revoke", invite: "Invite someone", send_invitation: "Send invitation",
    invited: "Invitation sent to {email}.", revoked: "Invitation to {email} revoked.",
    removed: "{email} is no longer on the team.", role_changed: "{email} is now {role}.",
    "role.staff": "Staff", "role.supervisor": "Supervisor", "role.owner": "Owner", "role.finance": "Finance",
    "field.email": "Enter a valid e-mail address.",
    "field.name": "Enter the store's name (at most 200 characters).",
    "field.address.street": "Enter the street and number (at most 200 characters).",
    "field.address.postal_code": "Enter a postcode of five digits.",
    "field.address.city": "Enter the town (at most 200 characters).",
    "field.tax_number": "The tax number has at most 40 characters.",
    "field.vat_id": "A country code and 2 to 13 letters or digits, e.g. DE123456789.",
    "problem.sign_in_failed": "Sign-in failed: wrong e-mail or password.",
    "problem.account_disabled": "This account is disabled.",
    "problem.too_many_attempts": "Too many attempts. Please wait a few minutes.",
    "problem.link_used": "This link has expired or was used already. Sign in with your password or ask to be invited again.",
    "problem.weak_password": "This password is too weak. Please choose a longer one.",
    "problem.session_expired": "Please sign in again.",
    "problem.password_short": "The password needs at least 8 characters.",
    "problem.passwords_differ": "The two passwords differ.",
    "problem.mandate_needed": "Please agree to the direct debit mandate first.",
    "problem.invitation_gone": "This invitation was accepted already, revoked, or has expired.",
    "problem.invitation_email_mismatch": "This invitation went to another e-mail address. Please sign in with the invited address.",
    "problem.unauthenticated": "Please sign in again.",
    "problem.forbidden": "Your role does not allow this in this store.",
    "problem.store_not_found": "There is no such store.",
    "problem.invoice_not_found": "There is no such invoice.",
    "problem.invoice_paid": "This invoice is paid already.",
    "problem.email_taken": "This e-mail address belongs to another store already.",
    "problem.already_member": "This person is on the team already.",
    "problem.last_owner": "A store needs at least one owner: please make someone else an owner first.",
    "problem.member_not_found": "This person is no longer on the team.",
    "problem.invitation_not_found": "This invitation no longer exists.",
    "problem.validation_failed": "Please check the marked entries.",
    "problem.service_unavailable": "The service cannot be reached right now. Please try again in a moment.",
    "problem.internal_error": "That did not work. Please try again later.",
    offline_title: "No connection.", offline_detail: "Please try again.", error_title: "That did not work.",
  },
};
const SESSION_KEY = "tresen.portal";
const ROLES = ["owner", "supervisor", "staff", "finance"];
const BILLING_ROLES = ["owner", "finance"];
const MIN_PASSWORD = 8;
const POLL_MS = 2000;
const POLL_FOR_MS = 60000; // a provider's webhook arrives within seconds; after a minute the page stops asking

const t = makeTranslator(STRINGS);
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// An invitation's link: its token, the code to set the password, and the code to confirm the address.
let invitation = params.get("invitation")
  ? { token: params.get("invitation"), setup: params.get("setup"), verify: params.get("verify") }
  : null;
// Back from a provider: said once, then dropped from the address (a reload does not say it again).
const arrival = { store: params.get("store"), invoice: params.get("invoice"), paid: params.get("paid"), card: params.get("card") };
let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); // {token, refreshToken, uid, email}
let passwordSet = null; // the invitation's e-mail address once its password is set: the code is spent
let store = null; // {id, role, name}
let billing = null; // GET billing, as last answered
let profile = null; // GET profile, as last answered or saved
let team = null; // {members, invitations}
let removing = null; // the member the dialog asks about
const polls = { payment: null, card: null }; // {until, timer, state}

const m = (cents) => money(cents, "EUR", t.lang());
const locale = () => (t.lang() === "en" ? "en-GB" : "de-DE");
const storePath = (suffix = "") => `/v1/stores/${encodeURIComponent(store.id)}${suffix}`;

/** "2026-05" → "Mai 2026"; a date (YYYY-MM-DD) or a time → "15.06.2026" (as the person reads it). */
function monthOf(period) {
  const [year, month] = period.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(locale(), { month: "long", year: "numeric", timeZone: "UTC" });
}

function dayOf(value) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  return new Date(value).toLocaleDateString(locale(), {
    day: "2-digit", month: "2-digit", year: "numeric", ...(dateOnly ? { timeZone: "UTC" } : {}),
  });
}

// ---- signing in ----------------------------------------------------------------------------------

function keepSession(signedIn) {
  const claims = claimsOf(signedIn.token);
  session = { ...signedIn, uid: claims.user_id || claims.sub, email: claims.email || "" };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

const keepToken = tokenKeeper(async () => {
  keepSession(await (await firebaseAuth()).renew(session.refreshToken));
  return session.token;
});

/** An API call as the signed-in person; an expired or revoked sign-in sends them back to sign in. */
async function portalCall(path, options = {}) {
  try {
    const headers = { ...options.headers, Authorization: `Bearer ${await keepToken(session)}` };
    return await call(API.staff, path, { ...options, headers });
  } catch (error) {
    if (error instanceof Problem && ["unauthenticated", "session_expired"].includes(error.code)) signOut(t("session_expired"));
    throw error;
  }
}

function showOnly(id) {
  for (const form of ["set-password", "sign-in", "store-choice", "no-store", "portal"]) $(form).hidden = form !== id;
  $("sign-out").hidden = !session;
  $("no-password-yet").hidden = !(invitation && !passwordSet);
}

async function setPassword(event) {
  event.preventDefault();
  const form = $("set-password");
  const alertBox = $("set-password-alert");
  clearProblem(form, alertBox);
  const password = $("new-password").value;
  const mismatch = password.length < MIN_PASSWORD ? ["password", "password_short"]
    : password !== $("repeat-password").value ? ["repeat", "passwords_differ"] : null;
  if (mismatch) {
    const [field, code] = mismatch;
    const problem = new Problem(422, { code, errors: [{ field, message: t(`problem.${code}`) }] });
    return showProblem(form, alertBox, problem, t);
  }
  try {
    const auth = await firebaseAuth();
    passwordSet ??= await auth.setPassword(invitation.setup, password);
    if (invitation.verify) {
      await auth.confirmEmail(invitation.verify);
      invitation.verify = null; // spent
    }
    keepSession(await auth.signIn(passwordSet, password));
    await acceptInvitation();
  } catch (error) {
    if (!session) showProblem(form, alertBox, error, t);
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = $("sign-in");
  clearProblem(form, $("sign-in-alert"));
  $("page-alert").hidden = true;
  try {
    keepSession(await (await firebaseAuth()).signIn($("email").value.trim(), $("password").value));
    $("password").value = "";
    if (invitation) await acceptInvitation();
    else await openPortal();
  } catch (error) {
    if (!session) showProblem(form, $("sign-in-alert"), error, t);
  }
}

/** Joins the invitation's store; the invitation leaves the address once it is used (or unusable).
 * A refusal is said above whatever stores the person has already. */
async function acceptInvitation() {
  let joined = null;
  try {
    joined = await portalCall("/v1/invitations/accept", { method: "POST", body: { token: invitation.token } });
  } catch (error) {
    if (!session) return; // signed out: the sign-in form says why
    showAlert($("page-alert"), error, t);
  }
  invitation = null; // used, or never to be: a later sign-in just opens the portal
  history.replaceState(null, "", joined ? `?store=${encodeURIComponent(joined.store_id)}` : location.pathname);
  await openPortal(joined?.store_id);
  if (!$("page-alert").hidden) $("page-alert").focus();
}

function signOut(message) {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  stopPolls();
  store = billing = profile = team = null;
  $("profile-form").reset();
  $("profile-note").hidden = true;
  fill($("profile-facts"));
  fill($("invoices"));
  fill($("members"));
  fill($("invitations"));
  $("who").textContent = "";
  clearProblem($("sign-in"), $("sign-in-alert"));
  $("page-alert").hidden = true;
  showOnly("sign-in");
  history.replaceState(null, "", location.pathname);
  if (message) {
    $("sign-in-alert").textContent = message;
    $("sign-in-alert").hidden = false;
  }
}

// ---- the store -----------------------------------------------------------------------------------

/** The signed-in person's stores (Tresen's record): one opens at once, several are offered. */
async function openPortal(preferred = arrival.store) {
  let me;
  try {
    me = await portalCall("/v1/me");
  } catch (error) {
    if (session) showPageProblem(error);
    return;
  }
  const stores = Object.keys(me.stores).sort();
  if (!stores.length) return showOnly("no-store");
  const chosen = stores.includes(preferred) ? preferred : stores.length === 1 ? stores[0] : null;
  if (chosen) return showStore(chosen, me.stores[chosen]);
  fill($("store"), ...stores.map((id) => h("option", { value: id }, `${id} (${t(`role.${me.stores[id]}`)})`)));
  $("store-choice").onsubmit = (event) => {
    event.preventDefault();
    showStore($("store").value, me.stores[$("store").value]);
  };
  showOnly("store-choice");
}

async function showStore(id, role) {
  store = { id, role, name: null };
  if (new URLSearchParams(location.search).get("store") !== id) history.replaceState(null, "", `?store=${encodeURIComponent(id)}`);
  for (const el of document.querySelectorAll("#portal [data-roles]")) el.hidden = !el.dataset.roles.split(" ").includes(role);
  $("nothing-here").hidden = BILLING_ROLES.includes(role);
  renderHeader();
  showOnly("portal");
  $("portal-title").focus();
  call(API.customer, `/v1/stores/${encodeURIComponent(id)}/menu`)
    .then((menu) => { if (store?.id === id) { store.name = menu.store.name; renderHeader(); } })
    .catch(() => {}); // the store's id says which store it is, too
  const backHere = arrival.store === id;
  if (backHere && arrival.paid && arrival.invoice) startPoll("payment");
  if (backHere && arrival.card === "saved") startPoll("card");
  if (backHere && (arrival.paid || arrival.card)) history.replaceState(null, "", `?store=${encodeURIComponent(id)}`);
  arrival.paid = arrival.card = null;
  const billed = BILLING_ROLES.includes(role);
  await Promise.all([billed ? loadBilling() : null, billed ? loadProfile() : null, role === "owner" ? loadTeam() : null]);
  if (backHere && arrival.invoice) $("invoices").querySelector(`[data-invoice="${CSS.escape(arrival.invoice)}"]`)?.scrollIntoView();
}

function renderHeader() {
  if (!store) return;
  $("who").textContent = `· ${session.email || session.uid}`;
  $("portal-title").textContent = store.name ? `${store.name} (${store.id})` : store.id;
}

function showPageProblem(error) {
  showAlert($("page-alert"), error, t);
  $("page-alert").focus();
}

// ---- invoices and the card -----------------------------------------------------------------------

async function loadBilling() {
  try {
    billing = await portalCall(storePath("/billing"));
    renderBilling();
  } catch (error) {
    if (session) showProblem($("invoices-section"), $("invoices-alert"), error, t);
  }
}

function renderBilling() {
  if (!billing) return;
  const owner = store.role === "owner";
  $("open-amount").textContent = billing.open_amount ? t("open_amount", { amount: m(billing.open_amount) }) : t("nothing_open");
  $("open-amount").hidden = !billing.invoices.length;
  $("no-invoices").hidden = billing.invoices.length > 0;
  fill($("invoices"), ...billing.invoices.map((invoice) => invoiceItem(invoice, owner)));
  const card = billing.card_on_file;
  $("card-on-file").textContent = card
    ? t("card_on_file", { brand: card.brand, last4: card.last4, expiry: `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year).slice(-2)}` })
    : t("no_card");
  $("mandate-text").textContent = billing.mandate.text;
  renderPolls();
}

function invoiceItem(invoice, owner) {
  const heading = `invoice-${invoice.id}`;
  const current = invoice.id === arrival.invoice && arrival.store === store.id;
  const fact = (name, value) => [h("dt", {}, t(name)), h("dd", { "data-name": name }, value)];
  return h("li", { class: `invoice${current ? " current" : ""}`, "data-invoice": invoice.id, "data-status": invoice.status, "aria-current": current ? "true" : null },
    h("h3", { id: heading }, t("invoice", { number: invoice.number })),
    h("dl", { class: "facts" },
      fact("month", monthOf(invoice.period)),
      fact("gross", m(invoice.gross)),
      fact("due", dayOf(invoice.due_date)),
      fact("status", h("span", { class: `badge ${invoice.status}` }, t(`invoice.${invoice.status}`))),
      invoice.paid_at ? fact("paid_on", dayOf(invoice.paid_at)) : null),
    h("p", { class: "actions" },
      h("button", { type: "button", class: "small", "aria-describedby": heading, onclick: (event) => downloadPdf(invoice, event.currentTarget) }, t("pdf")),
      owner && invoice.status !== "paid" ? ["card", "paypal"].map((method) =>
        h("button", { type: "button", class: `small${method === "card" ? " primary" : ""}`, "aria-describedby": heading, "data-pay": method,
          onclick: (event) => pay(invoice, method, event.currentTarget) }, t(`pay_${method}`))) : null));
}

/** The PDF as issued, fetched with the sign-in (a link could not carry it) and saved under its number. */
async function downloadPdf(invoice, button) {
  clearProblem($("invoices-section"), $("invoices-alert"));
  button.disabled = true;
  try {
    const pdf = await portalCall(storePath(`/billing/invoices/${encodeURIComponent(invoice.id)}.pdf`), { as: "blob" });
    const link = h("a", { href: URL.createObjectURL(pdf), download: `${invoice.number}.pdf`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000); // the browser has saved it by then
  } catch (error) {
    if (session) showProblem($("invoices-section"), $("invoices-alert"), error, t);
  } finally {
    button.disabled = false;
  }
}

/** To the provider's page; it sends the person back here with ?paid=card|paypal. */
async function pay(invoice, method, button) {
  clearProblem($("invoices-section"), $("invoices-alert"));
  for (const other of $("invoices").querySelectorAll("[data-pay]")) other.disabled = true;
  button.textContent = t("to_provider");
  try {
    const { checkout_url: url } = await portalCall(storePath(`/billing/invoices/${encodeURIComponent(invoice.id)}/pay`), { method: "POST", body: { method } });
    location.assign(url);
  } catch (error) {
    renderBilling();
    if (session) showProblem($("invoices-section"), $("invoices-alert"), error, t);
  }
}

/** Saving a card means agreeing to the mandate shown above the button: Stripe's page takes the card. */
async function saveCard(event) {
  event.preventDefault();
  const form = $("card-form");
  clearProblem(form, $("card-alert"));
  if (!$("mandate-agree").checked) {
    showProblem(form, $("card-alert"), new Problem(422, { code: "mandate_needed" }), t);
    return $("mandate-agree").setAttribute("aria-invalid", "true");
  }
  $("save-card").disabled = true;
  try {
    const { checkout_url: url } = await portalCall(storePath("/billing/payment-method"), { method: "POST" });
    location.assign(url);
  } catch (error) {
    $("save-card").disabled = false;
    if (session) showProblem(form, $("card-alert"), error, t);
  }
}

// Back from a provider: billing is asked again every 2 s until the webhook has done its work.
const POLLS = {
  payment: { note: "payment-note", prefix: "paid", done: () => billing?.invoices.some((i) => i.id === arrival.invoice && i.status === "paid") },
  card: { note: "card-note", prefix: "card", done: () => Boolean(billing?.card_on_file) },
};

function startPoll(name) {
  polls[name] = { until: Date.now() + POLL_FOR_MS, timer: null, state: "arrived" };
  renderPolls();
  schedulePolls();
}

function schedulePolls() {
  const waiting = Object.values(polls).filter((poll) => poll?.state === "arrived");
  if (!waiting.length || waiting.some((poll) => poll.timer)) return;
  const timer = setTimeout(async () => {
    for (const poll of waiting) poll.timer = null;
    await loadBilling();
    renderPolls(); // also when billing could not be read: a minute is a minute
    schedulePolls();
  }, POLL_MS);
  for (const poll of waiting) poll.timer = timer;
}

function renderPolls() {
  for (const [name, poll] of Object.entries(polls)) {
    if (!poll) continue;
    const { note, prefix, done } = POLLS[name];
    if (poll.state === "arrived" && done()) poll.state = "done";
    else if (poll.state === "arrived" && Date.now() > poll.until) poll.state = "late";
    $(note).textContent = t(`${prefix}.${poll.state}`);
    $(note).className = poll.state === "late" ? "notice" : "ok";
    $(note).hidden = false;
  }
}

function stopPolls() {
  for (const [name, poll] of Object.entries(polls)) {
    clearTimeout(poll?.timer);
    polls[name] = null;
  }
  for (const note of ["payment-note", "card-note"]) $(note).hidden = true;
}

// ---- the business details ------------------------------------------------------------------------

const PROFILE_INPUTS = {
  name: "profile-name", street: "profile-street", postal_code: "profile-postal-code", city: "profile-city",
  tax_number: "profile-tax-number", vat_id: "profile-vat-id",
};

async function loadProfile() {
  try {
    profile = await portalCall(storePath("/profile"));
    fillProfileForm();
    renderProfile();
  } catch (error) {
    if (session) showProblem($("profile-section"), $("profile-alert"), error, t);
  }
}

/** The owner's form holds the details as stored (an address of another shape than the form's, set by a
 * store file, reads as none until the owner saves one). Not on a change of language: what is typed stays. */
function fillProfileForm() {
  const { name, address, tax_number: taxNumber, vat_id: vatId } = profile;
  const values = { name, ...(address || { street: "", postal_code: "", city: "" }), tax_number: taxNumber || "", vat_id: vatId || "" };
  for (const [field, id] of Object.entries(PROFILE_INPUTS)) $(id).value = values[field];
}

/** Finance reads the details. */
function renderProfile() {
  if (!profile) return;
  const { name, address, tax_number: taxNumber, vat_id: vatId } = profile;
  const fact = (label, value) => [h("dt", {}, t(label)), h("dd", { class: "multiline" }, value || t("not_given"))];
  fill($("profile-facts"),
    fact("store_name", name),
    fact("address", address && `${address.street}\n${address.postal_code} ${address.city}`),
    fact("tax_number", taxNumber),
    fact("vat_id", vatId));
}

async function saveProfile(event) {
  event.preventDefault();
  const form = $("profile-form");
  clearProblem(form, $("profile-alert"));
  $("profile-note").hidden = true;
  const value = (field) => $(PROFILE_INPUTS[field]).value.trim();
  const body = {
    name: value("name"),
    address: { street: value("street"), postal_code: value("postal_code"), city: value("city") },
    tax_number: value("tax_number") || null,
    // as people write it ("de 123 456 789"): the API takes it without spaces, its country code in capitals
    vat_id: value("vat_id").replace(/\s+/g, "").toUpperCase() || null,
  };
  $("save-profile").disabled = true;
  try {
    profile = await portalCall(storePath("/profile"), { method: "PUT", body });
    fillProfileForm();
    renderProfile();
    store.name = profile.name;
    renderHeader();
    $("profile-note").hidden = false;
  } catch (error) {
    if (session) showProblem(form, $("profile-alert"), error, t);
  } finally {
    $("save-profile").disabled = false;
  }
}

// ---- the team ------------------------------------------------------------------------------------

/** The team as the API has it now; false if it could not be read (the problem is shown). */
async function loadTeam() {
  try {
    const [members, invitations] = await Promise.all([portalCall(storePath("/members")), portalCall(storePath("/invitations"))]);
    team = { members: members.data, invitations: invitations.data.filter((i) => i.status === "pending") };
    renderTeam();
    return true;
  } catch (error) {
    if (session) showTeamProblem(error);
    return false;
  }
}

/** A change done: the list shows it first, then the note says it (both at once for a screen reader).
 * Focus that was on a button the new list no longer has goes to the note. */
async function teamChanged(message) {
  if (!(await loadTeam())) return;
  teamSays(message);
  if (!document.activeElement || document.activeElement === document.body) $("team-note").focus();
}

function memberActions(member) {
  const id = `role-${member.uid}`;
  return h("div", { class: "row" },
    h("div", {},
      h("label", { for: id, class: "inline" }, t("role_of", { email: member.email })),
      h("select", { id, "data-member": member.uid, onchange: (event) => changeRole(member, event.currentTarget.value) },
        ROLES.map((role) => h("option", { value: role, selected: role === member.role }, t(`role.${role}`))))),
    h("div", { class: "fit" },
      h("button", { type: "button", class: "danger", "aria-label": `${t("remove")}: ${member.email}`, onclick: () => askToRemove(member) }, t("remove"))));
}

function renderTeam() {
  if (!team) return;
  fill($("members"), ...team.members.map((member) => h("li", { class: "person", "data-member": member.uid },
    h("p", {}, h("strong", { class: "email" }, member.email), " ", h("span", { class: "note" }, t("since", { date: dayOf(member.since) }))),
    memberActions(member))));
  $("no-invitations").hidden = team.invitations.length > 0;
  fill($("invitations"), ...team.invitations.map((invitation) => h("li", { class: "person", "data-invitation": invitation.id },
    h("p", {}, h("strong", { class: "email" }, invitation.email), " ",
      h("span", { class: "note" }, `${t(`role.${invitation.role}`)} · ${t("valid_until", { date: dayOf(invitation.expires_at) })}`)),
    h("p", {}, h("button", { type: "button", class: "small", "aria-label": `${t("revoke")}: ${invitation.email}`, onclick: () => revoke(invitation) }, t("revoke"))))));
}

function teamSays(message) {
  clearProblem($("team-section"), $("team-alert"));
  $("team-note").textContent = message;
  $("team-note").hidden = false;
}

function showTeamProblem(error) {
  $("team-note").hidden = true;
  showProblem($("team-section"), $("team-alert"), error, t);
}

async function changeRole(member, role) {
  try {
    await portalCall(storePath(`/members/${encodeURIComponent(member.uid)}`), { method: "PUT", body: { role } });
    member.role = role;
    teamSays(t("role_changed", { email: member.email, role: t(`role.${role}`) }));
  } catch (error) {
    $(`role-${member.uid}`).value = member.role; // as it still is
    if (session) showTeamProblem(error);
  }
}

function askToRemove(member) {
  removing = member;
  clearProblem($("remove-form"), $("remove-alert"));
  $("remove-title").textContent = t("remove_title", { email: member.email });
  $("remove-dialog").showModal();
}

async function removeMember(event) {
  event.preventDefault();
  try {
    await portalCall(storePath(`/members/${encodeURIComponent(removing.uid)}`), { method: "DELETE" });
    $("remove-dialog").close();
    await teamChanged(t("removed", { email: removing.email }));
  } catch (error) {
    if (session) showProblem($("remove-form"), $("remove-alert"), error, t);
  }
}

async function revoke(invitation) {
  try {
    await portalCall(storePath(`/invitations/${encodeURIComponent(invitation.id)}`), { method: "DELETE" });
    await teamChanged(t("revoked", { email: invitation.email }));
  } catch (error) {
    if (session) showTeamProblem(error);
  }
}

async function invite(event) {
  event.preventDefault();
  const form = $("invite-form");
  clearProblem(form, $("invite-alert"));
  const email = $("invite-email").value.trim();
  try {
    await portalCall(storePath("/invitations"), { method: "POST", body: { email, role: $("invite-role").value } });
    form.reset();
    await teamChanged(t("invited", { email }));
  } catch (error) {
    if (session) showProblem(form, $("invite-alert"), error, t);
  }
}

// ---- the page ------------------------------------------------------------------------------------

function relabel() {
  translateStatic(t);
  $("language").textContent = t.lang() === "de" ? "English" : "Deutsch";
  $("language").lang = t.lang() === "de" ? "en" : "de";
  renderHeader();
  renderBilling();
  renderProfile();
  renderTeam();
  if (removing && $("remove-dialog").open) $("remove-title").textContent = t("remove_title", { email: removing.email });
}

function start() {
  relabel();
  $("language").addEventListener("click", () => { t.toggle(); relabel(); });
  $("sign-out").addEventListener("click", () => signOut());
  $("set-password").addEventListener("submit", setPassword);
  $("sign-in").addEventListener("submit", signIn);
  $("have-password").addEventListener("click", () => { showOnly("sign-in"); $("email").focus(); });
  $("need-password").addEventListener("click", () => { showOnly("set-password"); $("new-password").focus(); });
  $("card-form").addEventListener("submit", saveCard);
  $("mandate-agree").addEventListener("change", () => clearProblem($("card-form"), $("card-alert")));
  $("profile-form").addEventListener("submit", saveProfile);
  $("profile-form").addEventListener("input", () => { $("profile-note").hidden = true; }); // said of what was saved
  $("invite-form").addEventListener("submit", invite);
  $("remove-form").addEventListener("submit", removeMember);
  $("remove-cancel").addEventListener("click", () => $("remove-dialog").close());
  window.addEventListener("pageshow", (event) => { // back from a provider by the back button
    $("save-card").disabled = false;
    if (event.persisted) renderBilling();
  });
  if (session && invitation) acceptInvitation();
  else if (session) openPortal();
  else showOnly(invitation ? "set-password" : "sign-in");
}

start();
