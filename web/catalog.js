// The staff board's catalog ("Sortiment"): the products with their price, VAT rate, category and stock,
// added, changed and hidden by owners and supervisors; the stock of a tracked product changed by staff
// (a delivery, a count, waste, a correction); the promotions; and the purchasing: suppliers, purchase
// orders mailed to them, and what arrived received into stock line by line. The board lends it its
// translator, its API calls and the signed-in role (connectCatalog); the panel is built when first
// opened and emptied on signing out, as the till's is.
import { API, Attempt, Problem, clearProblem, fill, h, money, parseCents, showAlert, showProblem, time, translateStatic } from "./common.js";

export const CATALOG_STRINGS = {
  de: {
    catalog: "Sortiment", "catalog.sections": "Bereiche des Sortiments",
    "catalog.products": "Artikel", "catalog.promotions": "Aktionen", "catalog.purchasing": "Einkauf",
    "catalog.count": "{count} Artikel", "catalog.count_low": "{count} Artikel, {low} mit niedrigem Bestand",
    "catalog.no_products": "Noch keine Artikel.", "catalog.new_product": "Neuer Artikel", "catalog.edit_title": "„{name}“ bearbeiten",
    "catalog.name": "Name", "catalog.price": "Preis (€)", "catalog.price_hint": "z. B. 3,90", "catalog.value": "Wert (€)",
    "catalog.vat": "Mehrwertsteuer", "catalog.vat.7": "7 % (ermäßigt, z. B. Speisen)", "catalog.vat.19": "19 % (z. B. Getränke)",
    "catalog.giftcard_form": "Ein Gutschein trägt keine Mehrwertsteuer: sie fällt erst beim Einlösen an.",
    "catalog.category": "Kategorie (optional)", "catalog.description": "Beschreibung (optional)",
    "catalog.available": "Im Angebot (bestellbar)",
    "catalog.stock_tracked": "Bestand zählen: Verkäufe buchen ihn ab, bei 0 ist der Artikel ausverkauft",
    "catalog.low_stock_at": "Bestand niedrig ab (Stück, optional)",
    "catalog.create": "Artikel anlegen", "catalog.save": "Speichern", "catalog.cancel": "Abbrechen",
    "catalog.created": "„{name}“ ist angelegt.", "catalog.saved": "„{name}“ ist gespeichert.",
    "catalog.giftcard": "Gutschein (ohne MwSt.)", "catalog.vat_rate": "MwSt. {rate} %",
    "catalog.stock": "Bestand", "catalog.low_at": "niedrig ab {count}", "catalog.untracked": "Bestand wird nicht gezählt.",
    "catalog.state.on": "im Angebot", "catalog.state.off": "nicht im Angebot", "catalog.state.sold_out": "ausverkauft",
    "catalog.low": "Bestand niedrig",
    "catalog.change_stock": "Bestand ändern", "catalog.change_stock_label": "Bestand ändern: {name}",
    "catalog.edit": "Bearbeiten", "catalog.edit_label": "Bearbeiten: {name}",
    "catalog.hide": "Ausblenden", "catalog.hide_label": "Ausblenden: {name}",
    "catalog.hide_title": "„{name}“ ausblenden?",
    "catalog.hide_what": "Der Artikel verschwindet von der Speisekarte und lässt sich nicht mehr bestellen. Bestellungen, in denen er steht, behalten ihn.",
    "catalog.hidden": "„{name}“ ist ausgeblendet.",
    "catalog.stock_title": "Bestand ändern: {name}", "catalog.mode": "Art der Änderung",
    "catalog.mode.add": "Zugang (+)", "catalog.mode.remove": "Abgang (−)", "catalog.mode.set": "Gezählt (=)",
    "catalog.units": "Stück", "catalog.units_counted": "Gezählter Bestand (Stück)", "catalog.reason": "Grund",
    "catalog.reason.delivery": "Lieferung", "catalog.reason.count": "Inventur", "catalog.reason.waste": "Schwund", "catalog.reason.correction": "Korrektur",
    "catalog.book": "Buchen", "catalog.stock_booked": "Bestand von „{name}“: {stock}.",
    "catalog.insufficient": "So viel ist nicht da: „{name}“ hat {stock} Stück, und der Bestand kann nicht unter 0 fallen.",
    "catalog.name_required": "Bitte einen Namen angeben.", "catalog.price_invalid": "Bitte einen Preis wie 3,90 eingeben.",
    "catalog.count_invalid": "Bitte eine ganze Zahl ab 0 eingeben.", "catalog.units_invalid": "Bitte eine ganze Zahl ab 1 eingeben.",
    "catalog.new_promotion": "Neue Aktion", "catalog.no_promotions": "Noch keine Aktionen.",
    "catalog.discount": "Rabatt", "catalog.kind.percent": "Prozent", "catalog.kind.amount": "Betrag",
    "catalog.percent": "Prozent (z. B. 10 oder 12,5)", "catalog.amount": "Betrag (€)",
    "catalog.applies": "Gilt für", "catalog.scope.all": "Alle Artikel", "catalog.scope.products": "Bestimmte Artikel", "catalog.scope.categories": "Kategorien",
    "catalog.no_categories": "Noch hat kein Artikel eine Kategorie.",
    "catalog.starts": "Beginn", "catalog.ends": "Ende", "catalog.channels": "Wo",
    "catalog.channel.online": "Online", "catalog.channel.counter": "An der Kasse",
    "catalog.max_uses": "Höchstens so oft (optional)", "catalog.code": "Code (optional)",
    "catalog.code_hint": "3 bis 32 Buchstaben, Ziffern, - oder _. Ohne Code gilt die Aktion von selbst.",
    "catalog.promotion_name": "Name (für den Bon; ohne Code nötig)", "catalog.promotion_create": "Aktion anlegen",
    "catalog.promotion_created": "Aktion „{name}“ ist angelegt.",
    "catalog.percent_invalid": "Bitte einen Prozentsatz über 0 bis 100 wie 10 oder 12,5 eingeben.",
    "catalog.amount_invalid": "Bitte einen Betrag wie 1,50 eingeben.", "catalog.pick_products": "Bitte mindestens einen Artikel wählen.",
    "catalog.pick_categories": "Bitte mindestens eine Kategorie wählen.", "catalog.pick_channel": "Bitte mindestens einen Weg wählen.",
    "catalog.time_invalid": "Bitte Datum und Uhrzeit angeben.", "catalog.ends_after": "Das Ende muss nach dem Beginn liegen.",
    "catalog.ends_ahead": "Das Ende muss in der Zukunft liegen.", "catalog.code_invalid": "3 bis 32 Buchstaben, Ziffern, - oder _.",
    "catalog.name_needed": "Ohne Code braucht die Aktion einen Namen: er steht auf dem Bon.",
    "catalog.off_percent": "{percent} % Rabatt", "catalog.off_amount": "{amount} Rabatt",
    "catalog.on_all": "auf alle Artikel", "catalog.on": "auf {what}", "catalog.of_category": "alles aus „{category}“",
    "catalog.window": "{from} bis {to}", "catalog.uses_of": "Genutzt: {uses} von {max}", "catalog.uses": "Genutzt: {uses}, ohne Grenze",
    "catalog.status.scheduled": "geplant", "catalog.status.active": "läuft", "catalog.status.used_up": "aufgebraucht", "catalog.status.ended": "beendet",
    "catalog.end": "Beenden", "catalog.end_label": "Beenden: {name}", "catalog.end_title": "Aktion „{name}“ beenden?",
    "catalog.end_what": "Bestellungen ab jetzt bekommen sie nicht mehr; was sie bisher gegeben hat, bleibt.",
    "catalog.ended": "Aktion „{name}“ ist beendet.",
    "catalog.suppliers": "Lieferanten", "catalog.no_suppliers": "Noch keine Lieferanten.", "catalog.add_supplier": "Lieferant hinzufügen",
    "catalog.supplier_name": "Name", "catalog.supplier_email": "E-Mail für Bestellungen",
    "catalog.customer_number": "Kundennummer beim Lieferanten (optional)", "catalog.customer_number_shown": "Kd.-Nr. {number}",
    "catalog.supplier_create": "Lieferant anlegen", "catalog.supplier_added": "Lieferant „{name}“ ist angelegt.",
    "catalog.email_invalid": "Bitte eine E-Mail-Adresse wie bestellung@lieferant.de angeben.",
    "catalog.new_order": "Neue Bestellung", "catalog.supplier": "Lieferant", "catalog.first_supplier": "Für eine Bestellung zuerst einen Lieferanten anlegen.",
    "catalog.line": "Position {n}", "catalog.line_product": "Artikel", "catalog.free_text": "Freier Text (nicht im Sortiment)",
    "catalog.line_name": "Bezeichnung", "catalog.quantity": "Menge", "catalog.unit": "Einheit",
    "catalog.add_line": "Weitere Position", "catalog.remove_line": "Position {n} entfernen",
    "catalog.send_order": "Bestellen und per E-Mail senden", "catalog.order_sent": "Bestellung {number} ist an {supplier} ({email}) gesendet.",
    "catalog.line_name_required": "Bitte angeben, was bestellt wird.", "catalog.unit_required": "Bitte eine Einheit angeben, z. B. Stück oder kg.",
    "catalog.orders": "Bestellungen", "catalog.no_orders": "Noch keine Bestellungen.", "catalog.order_title": "{number} · {supplier}",
    "catalog.ordered_at": "bestellt {time}",
    "catalog.po.sent": "gesendet", "catalog.po.partially_received": "teilweise geliefert", "catalog.po.received": "geliefert",
    "catalog.free_line": "freie Position", "catalog.line_state": "{quantity} {unit} bestellt · {received} geliefert",
    "catalog.arrived": "Angekommen ({unit})", "catalog.receive": "Wareneingang", "catalog.receive_label": "Wareneingang buchen: {name}",
    "catalog.received": "Wareneingang gebucht: {quantity} {unit} {name}.", "catalog.received_stock": "Wareneingang gebucht: {quantity} {unit} {name}. Bestand jetzt {stock}.",
    "catalog.arrived_invalid": "Bitte eine ganze Zahl von 1 bis {open} eingeben.",
    "catalog.supplier_unknown": "Diesen Lieferanten gibt es nicht mehr.", "catalog.product_unknown": "Diesen Artikel gibt es nicht mehr.",
    "problem.insufficient_stock": "So viel ist nicht da: der Bestand kann nicht unter 0 fallen.",
    "problem.promotion_code_taken": "Diesen Code hat schon eine andere Aktion.",
    "problem.over_delivery": "Mehr als bestellt: bitte höchstens die offene Menge buchen.",
    "problem.product_not_found": "Diesen Artikel gibt es nicht mehr.",
    "problem.promotion_not_found": "Diese Aktion gibt es nicht mehr.",
    "problem.purchase_order_not_found": "Diese Bestellung gibt es nicht mehr.",
  },
  en: {
    catalog: "Catalog", "catalog.sections": "Parts of the catalog",
    "catalog.products": "Products", "catalog.promotions": "Promotions", "catalog.purchasing": "Purchasing",
    "catalog.count": "{count} products", "catalog.count_low": "{count} products, {low} low on stock",
    "catalog.no_products": "No products yet.", "catalog.new_product": "New product", "catalog.edit_title": "Edit “{name}”",
    "catalog.name": "Name", "catalog.price": "Price (€)", "catalog.price_hint": "e.g. 3.90", "catalog.value": "Value (€)",
    "catalog.vat": "VAT", "catalog.vat.7": "7 % (reduced, e.g. food)", "catalog.vat.19": "19 % (e.g. drinks)",
    "catalog.giftcard_form": "A gift card bears no VAT: it is due when the card is redeemed.",
    "catalog.category": "Category (optional)", "catalog.description": "Description (optional)",
    "catalog.available": "On offer (can be ordered)",
    "catalog.stock_tracked": "Count the stock: sales take from it, at 0 the product is sold out",
    "catalog.low_stock_at": "Low stock at (units, optional)",
    "catalog.create": "Add the product", "catalog.save": "Save", "catalog.cancel": "Cancel",
    "catalog.created": "“{name}” is added.", "catalog.saved": "“{name}” is saved.",
    "catalog.giftcard": "Gift card (no VAT)", "catalog.vat_rate": "VAT {rate} %",
    "catalog.stock": "Stock", "catalog.low_at": "low at {count}", "catalog.untracked": "Its stock is not counted.",
    "catalog.state.on": "on offer", "catalog.state.off": "not on offer", "catalog.state.sold_out": "sold out",
    "catalog.low": "Low stock",
    "catalog.change_stock": "Change the stock", "catalog.change_stock_label": "Change the stock: {name}",
    "catalog.edit": "Edit", "catalog.edit_label": "Edit: {name}",
    "catalog.hide": "Hide", "catalog.hide_label": "Hide: {name}",
    "catalog.hide_title": "Hide “{name}”?",
    "catalog.hide_what": "The product leaves the menu and can no longer be ordered. The orders that name it keep it.",
    "catalog.hidden": "“{name}” is hidden.",
    "catalog.stock_title": "Change the stock: {name}", "catalog.mode": "Kind of change",
    "catalog.mode.add": "In (+)", "catalog.mode.remove": "Out (−)", "catalog.mode.set": "Counted (=)",
    "catalog.units": "Units", "catalog.units_counted": "Stock counted (units)", "catalog.reason": "Reason",
    "catalog.reason.delivery": "Delivery", "catalog.reason.count": "Stocktaking", "catalog.reason.waste": "Waste", "catalog.reason.correction": "Correction",
    "catalog.book": "Book it", "catalog.stock_booked": "Stock of “{name}”: {stock}.",
    "catalog.insufficient": "There is not that much: “{name}” has {stock} units, and the stock cannot go below 0.",
    "catalog.name_required": "Enter a name.", "catalog.price_invalid": "Enter a price such as 3.90.",
    "catalog.count_invalid": "Enter a whole number from 0.", "catalog.units_invalid": "Enter a whole number from 1.",
    "catalog.new_promotion": "New promotion", "catalog.no_promotions": "No promotions yet.",
    "catalog.discount": "Discount", "catalog.kind.percent": "Percent", "catalog.kind.amount": "Amount",
    "catalog.percent": "Percent (e.g. 10 or 12.5)", "catalog.amount": "Amount (€)",
    "catalog.applies": "For", "catalog.scope.all": "Every product", "catalog.scope.products": "Some products", "catalog.scope.categories": "Categories",
    "catalog.no_categories": "No product has a category yet.",
    "catalog.starts": "Starts", "catalog.ends": "Ends", "catalog.channels": "Where",
    "catalog.channel.online": "Online", "catalog.channel.counter": "At the counter",
    "catalog.max_uses": "At most this often (optional)", "catalog.code": "Code (optional)",
    "catalog.code_hint": "3 to 32 letters, digits, - or _. Without a code the promotion applies by itself.",
    "catalog.promotion_name": "Name (for the receipt; needed without a code)", "catalog.promotion_create": "Add the promotion",
    "catalog.promotion_created": "Promotion “{name}” is added.",
    "catalog.percent_invalid": "Enter a percentage above 0 up to 100, such as 10 or 12.5.",
    "catalog.amount_invalid": "Enter an amount such as 1.50.", "catalog.pick_products": "Choose at least one product.",
    "catalog.pick_categories": "Choose at least one category.", "catalog.pick_channel": "Choose at least one channel.",
    "catalog.time_invalid": "Enter a date and a time.", "catalog.ends_after": "The end must come after the start.",
    "catalog.ends_ahead": "The end must lie ahead.", "catalog.code_invalid": "3 to 32 letters, digits, - or _.",
    "catalog.name_needed": "Without a code the promotion needs a name: the receipt prints it.",
    "catalog.off_percent": "{percent} % off", "catalog.off_amount": "{amount} off",
    "catalog.on_all": "every product", "catalog.on": "{what}", "catalog.of_category": "everything in “{category}”",
    "catalog.window": "{from} to {to}", "catalog.uses_of": "Used: {uses} of {max}", "catalog.uses": "Used: {uses}, no limit",
    "catalog.status.scheduled": "scheduled", "catalog.status.active": "running", "catalog.status.used_up": "used up", "catalog.status.ended": "ended",
    "catalog.end": "End", "catalog.end_label": "End: {name}", "catalog.end_title": "End the promotion “{name}”?",
    "catalog.end_what": "Orders from now on no longer get it; what it gave so far stays.",
    "catalog.ended": "Promotion “{name}” has ended.",
    "catalog.suppliers": "Suppliers", "catalog.no_suppliers": "No suppliers yet.", "catalog.add_supplier": "Add a supplier",
    "catalog.supplier_name": "Name", "catalog.supplier_email": "E-mail for orders",
    "catalog.customer_number": "Customer number at the supplier (optional)", "catalog.customer_number_shown": "Customer no. {number}",
    "catalog.supplier_create": "Add the supplier", "catalog.supplier_added": "Supplier “{name}” is added.",
    "catalog.email_invalid": "Enter an e-mail address such as orders@supplier.com.",
    "catalog.new_order": "New purchase order", "catalog.supplier": "Supplier", "catalog.first_supplier": "Add a supplier first to order from it.",
    "catalog.line": "Line {n}", "catalog.line_product": "Product", "catalog.free_text": "Free text (not in the catalog)",
    "catalog.line_name": "What", "catalog.quantity": "Quantity", "catalog.unit": "Unit",
    "catalog.add_line": "Another line", "catalog.remove_line": "Remove line {n}",
    "catalog.send_order": "Order and send by e-mail", "catalog.order_sent": "Purchase order {number} is sent to {supplier} ({email}).",
    "catalog.line_name_required": "Say what is ordered.", "catalog.unit_required": "Enter a unit, e.g. Stück or kg.",
    "catalog.orders": "Purchase orders", "catalog.no_orders": "No purchase orders yet.", "catalog.order_title": "{number} · {supplier}",
    "catalog.ordered_at": "ordered {time}",
    "catalog.po.sent": "sent", "catalog.po.partially_received": "partly received", "catalog.po.received": "received",
    "catalog.free_line": "free line", "catalog.line_state": "{quantity} {unit} ordered · {received} received",
    "catalog.arrived": "Arrived ({unit})", "catalog.receive": "Receive", "catalog.receive_label": "Receive: {name}",
    "catalog.received": "Received: {quantity} {unit} {name}.", "catalog.received_stock": "Received: {quantity} {unit} {name}. Stock now {stock}.",
    "catalog.arrived_invalid": "Enter a whole number from 1 to {open}.",
    "catalog.supplier_unknown": "This supplier no longer exists.", "catalog.product_unknown": "This product no longer exists.",
    "problem.insufficient_stock": "There is not that much: the stock cannot go below 0.",
    "problem.promotion_code_taken": "Another promotion has this code already.",
    "problem.over_delivery": "More than was ordered: book at most the quantity still open.",
    "problem.product_not_found": "This product no longer exists.",
    "problem.promotion_not_found": "This promotion no longer exists.",
    "problem.purchase_order_not_found": "This purchase order no longer exists.",
  },
};

const EDIT_ROLES = ["owner", "supervisor"]; // products, promotions, suppliers and purchase orders
const STOCK_ROLES = ["owner", "supervisor", "staff"]; // change the stock, receive goods
const PROMOTION_ROLES = ["owner", "supervisor", "staff"]; // who reads the promotions
const VIEWS = ["products", "promotions", "purchasing"];
const MODES = { add: "delivery", remove: "waste", set: "count" }; // each way to change the stock, and the reason it suggests
const REASONS = ["delivery", "count", "waste", "correction"];
const CHANNELS = ["online", "counter"];
const MOST_UNITS = 1_000_000; // the API's bound on a count
const ORDERS_SHOWN = 50;
const PROMOTION_DAYS = 7; // how long a new promotion runs unless told otherwise
const UNITS = ["Stück", "kg", "g", "l", "Kiste", "Karton", "Packung"]; // suggestions: the supplier reads them in German
// the API's words for a field's problem (domain/promotions.py, domain/purchase_orders.py), as the board says them
const SAID = [
  [/^3 to 32 letters/, "catalog.code_invalid"], [/^a promotion without a code needs a name/, "catalog.name_needed"],
  [/^must be after starts_at$/, "catalog.ends_after"], [/^must lie ahead$/, "catalog.ends_ahead"],
  [/^no supplier with this id/, "catalog.supplier_unknown"], [/^no product with this id/, "catalog.product_unknown"],
];

/** What the board lends the catalog: t, staffCall(base, path, options), storePath(suffix), inOurWords(error), role(). */
let board = null;
const catalog = {
  products: [], // GET …/products: the menu's products as put, with their stock
  promotions: [],
  suppliers: [],
  orders: [], // the purchase orders, newest first
  loading: 0, // the newest load; an older one answering late is dropped
  view: "products",
  productForm: null, // {id (null: a new product), product, values}
  stockDraft: null, // {id, mode, units, reason}: the one stock form open
  promotionDraft: null,
  orderDraft: null, // {supplier_id, lines: [{product_id, name, quantity, unit}]}
  orderAttempt: new Attempt(), // the next "Order and send": one key for its retries
  receiveAttempts: new Map(), // "order:line" → the Attempt of that line's next receipt
  arrivals: new Map(), // "order:line" → the units typed as arrived
};

const $ = (id) => document.getElementById(id);
const t = (key, values) => board.t(key, values);
const m = (cents) => money(cents, "EUR", board.t.lang());
const at = (iso) => time(iso, board.t.lang());
const may = (roles) => roles.includes(board.role());
const productPath = (id, suffix = "") => board.storePath(`/products/${encodeURIComponent(id)}${suffix}`);
const productNamed = (id) => catalog.products.find((product) => product.id === id);
const items = () => catalog.products.filter((product) => product.kind === "item");
const categories = () => [...new Set(catalog.products.map((product) => product.category).filter(Boolean))].sort((a, b) => a.localeCompare(b));
const isLow = (product) => product.stock_tracked && product.low_stock_at !== null && product.stock <= product.low_stock_at;
const wholeNumber = (text, least, most = MOST_UNITS) => /^\d{1,8}$/.test(text.trim()) && Number(text) >= least && Number(text) <= most;
const promotionName = (promotion) => promotion.code || promotion.name;
const supplierNamed = (id) => catalog.suppliers.find((supplier) => supplier.id === id);

export function connectCatalog(lent) {
  board = lent;
}

/** The tab opened: the panel built (the first time) and everything read afresh. */
export function openCatalog() {
  buildCatalog();
  return loadCatalog();
}

/** Signing out: nothing of the store stays in the page. */
export function forgetCatalog() {
  Object.assign(catalog, {
    products: [], promotions: [], suppliers: [], orders: [], loading: 0, view: "products", productForm: null, stockDraft: null,
    promotionDraft: null, orderDraft: null, orderAttempt: new Attempt(), receiveAttempts: new Map(), arrivals: new Map(),
  });
  fill($("catalog-panel"));
}

export function relabelCatalog() {
  if (!$("catalog")) return;
  translateStatic(board.t, $("catalog-panel"));
  say(""); // what was just done, said in the other language
  renderCatalog();
}

function buildCatalog() {
  const panel = $("catalog-panel");
  if (panel.firstChild) return;
  const views = VIEWS.filter((view) => view !== "promotions" || may(PROMOTION_ROLES));
  fill(panel, h("div", { id: "catalog" },
    h("div", { class: "subtabs", role: "tablist", "data-t-label": "catalog.sections" }, ...views.map((view) => h("button", {
      type: "button", role: "tab", id: `cat-tab-${view}`, "aria-controls": `cat-${view}`, "data-t": `catalog.${view}`, onclick: () => showView(view),
    }))),
    h("div", { id: "catalog-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { id: "catalog-note", class: "ok", role: "status", hidden: true }),
    h("section", { id: "cat-products", role: "tabpanel", "aria-labelledby": "cat-tab-products" },
      h("div", { class: "section-head" },
        h("h2", { id: "products-title", tabindex: "-1", "data-t": "catalog.products" }),
        may(EDIT_ROLES) ? h("button", { type: "button", id: "product-new", class: "primary", "data-t": "catalog.new_product", onclick: () => openProductForm(null) }) : null),
      h("p", { id: "products-count", class: "note" }),
      h("div", { id: "product-form-box" }),
      h("ul", { id: "products", class: "catalog-products" })),
    views.includes("promotions") ? h("section", { id: "cat-promotions", role: "tabpanel", "aria-labelledby": "cat-tab-promotions" },
      h("div", { class: "section-head" },
        h("h2", { id: "promotions-title", tabindex: "-1", "data-t": "catalog.promotions" }),
        may(EDIT_ROLES) ? h("button", { type: "button", id: "promotion-new", class: "primary", "data-t": "catalog.new_promotion", onclick: openPromotionForm }) : null),
      h("div", { id: "promotion-form-box" }),
      h("ul", { id: "promotions", class: "promotions" })) : null,
    h("section", { id: "cat-purchasing", role: "tabpanel", "aria-labelledby": "cat-tab-purchasing", class: "purchasing" },
      h("div", {},
        h("h2", { id: "suppliers-title", "data-t": "catalog.suppliers" }),
        h("ul", { id: "suppliers", class: "suppliers" }),
        may(EDIT_ROLES) ? supplierForm() : null,
        may(EDIT_ROLES) ? [h("h2", { id: "order-form-title", "data-t": "catalog.new_order" }), h("div", { id: "order-form-box" })] : null),
      h("div", {},
        h("h2", { id: "orders-title", tabindex: "-1", "data-t": "catalog.orders" }),
        h("ul", { id: "purchase-orders", class: "purchase-orders" }))),
    h("datalist", { id: "unit-suggestions" }, ...UNITS.map((unit) => h("option", { value: unit }))),
    confirmDialog()));
  translateStatic(board.t, panel);
  showView(catalog.view);
}

function showView(view) {
  catalog.view = $(`cat-${view}`) ? view : "products";
  for (const tab of $("catalog-panel").querySelectorAll("[role=tab]")) {
    const shown = tab.id === `cat-tab-${catalog.view}`;
    tab.setAttribute("aria-selected", String(shown));
    $(tab.getAttribute("aria-controls")).hidden = !shown;
  }
}

function say(text) {
  const note = $("catalog-note");
  note.textContent = text || "";
  note.hidden = !text;
}

/** Draws anew; a control that had the focus has it again once drawn anew, else `fallback` has it. */
function keepingFocus(render, fallback = null) {
  const focused = document.activeElement;
  render();
  if (!focused?.id || document.contains(focused)) return;
  ($(focused.id) || fallback)?.focus();
}

/** showProblem in the board's words and ours, each field's problem beside its field (`fieldOf` names
 * the field of the form an API field is typed into), the rest listed in the alert. */
function showFormProblem(form, alertBox, error, fieldOf = (field) => field) {
  if (error instanceof Problem) {
    board.inOurWords(error);
    error.errors = error.errors.map(({ field, message }) => {
      const said = SAID.find(([pattern]) => pattern.test(message));
      return { field: fieldOf(field), message: said ? t(said[1]) : message };
    });
  }
  showProblem(form, alertBox, error, board.t);
  const elsewhere = (error.errors || []).filter(({ field }) => !form.querySelector(`[data-field="${CSS.escape(field)}"]`));
  if (elsewhere.length) alertBox.append(h("ul", {}, ...elsewhere.map(({ field, message }) => h("li", {}, `${field}: ${message}`))));
}

/** A problem found before anything is sent: said as the API's would be. */
function refuse(form, alertBox, errors) {
  showProblem(form, alertBox, new Problem(422, { title: t("check_fields"), errors }), board.t);
}

/** Runs `work` with the form's buttons disabled (a second press sends nothing twice). */
async function busy(form, work) {
  const buttons = [...form.querySelectorAll("button")].filter((button) => !button.disabled);
  buttons.forEach((button) => (button.disabled = true));
  try {
    return await work();
  } finally {
    buttons.forEach((button) => (button.disabled = false)); // those drawn anew are new ones
  }
}

// ---- reading and showing everything --------------------------------------------------------------

async function loadCatalog() {
  if (!$("catalog")) return; // signed out meanwhile
  const asked = ++catalog.loading;
  const lists = ["products", "promotions", "purchase-orders"].map($).filter(Boolean);
  lists.forEach((list) => list.setAttribute("aria-busy", "true"));
  try {
    const [products, promotions, suppliers, orders] = await Promise.all([
      board.staffCall(API.staff, board.storePath("/products")),
      may(PROMOTION_ROLES) ? board.staffCall(API.staff, board.storePath("/promotions")) : { data: [] },
      board.staffCall(API.staff, board.storePath("/suppliers")),
      board.staffCall(API.staff, board.storePath(`/purchase-orders?limit=${ORDERS_SHOWN}`)),
    ]);
    if (asked !== catalog.loading) return;
    Object.assign(catalog, { products: products.data, promotions: promotions.data, suppliers: suppliers.data, orders: orders.data });
    $("catalog-alert").hidden = true;
  } catch (error) {
    if (asked === catalog.loading && $("catalog")) showAlert($("catalog-alert"), error, board.t);
  } finally {
    if (asked === catalog.loading) lists.forEach((list) => list.removeAttribute("aria-busy"));
  }
  if (asked === catalog.loading && $("catalog")) renderCatalog();
}

function renderCatalog() {
  renderProducts();
  renderProductForm();
  if ($("promotions")) {
    renderPromotions();
    renderPromotionForm();
  }
  renderSuppliers();
  if ($("order-form-box")) renderOrderForm();
  renderOrders();
}

// ---- products ------------------------------------------------------------------------------------

function renderProducts() {
  const low = catalog.products.filter(isLow).length;
  $("products-count").textContent = t(low ? "catalog.count_low" : "catalog.count", { count: catalog.products.length, low });
  keepingFocus(() => fill($("products"), catalog.products.length
    ? catalog.products.map(productCard)
    : h("li", { class: "note empty" }, t("catalog.no_products"))), $("products-title"));
}

/** on offer, off it by hand, or sold out by its stock */
function offerState(product) {
  if (product.sold_out_by_hand) return "off";
  return product.available ? "on" : "sold_out";
}

function productCard(product) {
  const state = offerState(product);
  const low = isLow(product);
  const label = (key) => t(key, { name: product.name });
  return h("li", { class: `catalog-product${low ? " low" : ""}`, "data-product": product.id, "aria-labelledby": `product-${product.id}` },
    h("h3", { id: `product-${product.id}`, tabindex: "-1" }, product.name),
    h("p", { class: "product-facts" }, h("strong", { class: "price" }, m(product.price)), " · ",
      product.kind === "giftcard" ? t("catalog.giftcard") : t("catalog.vat_rate", { rate: product.vat_rate }),
      product.category ? [" · ", h("span", { class: "category" }, product.category)] : null),
    product.description ? h("p", { class: "note description" }, product.description) : null,
    product.stock_tracked
      ? h("p", { class: "stock-line" }, `${t("catalog.stock")}: `, h("strong", { class: "stock" }, String(product.stock)),
        product.low_stock_at !== null ? h("span", { class: "note" }, ` (${t("catalog.low_at", { count: product.low_stock_at })})`) : null)
      : h("p", { class: "note stock-line" }, t("catalog.untracked")),
    h("p", { class: "badges" }, h("span", { class: `badge ${state}` }, t(`catalog.state.${state}`)),
      low ? h("span", { class: "badge low" }, t("catalog.low")) : null),
    h("p", { class: "actions" },
      product.stock_tracked && may(STOCK_ROLES) ? h("button", {
        type: "button", id: `stock-open-${product.id}`, class: "small", "aria-label": label("catalog.change_stock_label"),
        "aria-expanded": String(catalog.stockDraft?.id === product.id), onclick: () => openStock(product),
      }, t("catalog.change_stock")) : null,
      may(EDIT_ROLES) ? h("button", {
        type: "button", id: `edit-${product.id}`, class: "small", "aria-label": label("catalog.edit_label"), onclick: () => openProductForm(product),
      }, t("catalog.edit")) : null,
      may(EDIT_ROLES) ? h("button", {
        type: "button", id: `hide-${product.id}`, class: "small danger", "aria-label": label("catalog.hide_label"), onclick: () => hideProduct(product),
      }, t("catalog.hide")) : null),
    catalog.stockDraft?.id === product.id ? stockForm(product) : null);
}

// -- the product's form: a new one, or one changed (its options and kind are kept as they are) --

function openProductForm(product) {
  catalog.productForm = {
    id: product?.id || null,
    product,
    values: {
      name: product?.name || "", price: product ? (product.price / 100).toFixed(2).replace(".", board.t.lang() === "de" ? "," : ".") : "",
      vat_rate: product?.vat_rate || "7", kind: product?.kind || "item", category: product?.category || "",
      description: product?.description || "", available: product ? !product.sold_out_by_hand : true,
      stock_tracked: product?.stock_tracked || false, low_stock_at: product?.low_stock_at?.toString() || "",
    },
  };
  renderProductForm();
  $("product-form-title").focus();
}

function closeProductForm() {
  const id = catalog.productForm.id;
  catalog.productForm = null;
  renderProductForm();
  ($(`edit-${id}`) || $("product-new"))?.focus();
}

function renderProductForm() {
  const box = $("product-form-box");
  const form = catalog.productForm;
  if (!form) return fill(box);
  const values = form.values;
  const giftcard = values.kind === "giftcard";
  const field = (id, key, control, hint) => h("div", { class: "field" }, h("label", { for: id }, t(key)), control, hint || null);
  keepingFocus(() => fill(box, h("form", {
    id: "product-form", class: "record", novalidate: true, "aria-labelledby": "product-form-title",
    onsubmit: saveProduct, oninput: readProductForm, onchange: readProductForm,
  },
  h("h3", { id: "product-form-title", tabindex: "-1" }, form.id ? t("catalog.edit_title", { name: form.product.name }) : t("catalog.new_product")),
  field("pf-name", "catalog.name", h("input", { id: "pf-name", "data-field": "name", maxlength: 200, autocomplete: "off", value: values.name })),
  h("div", { class: "row" },
    field("pf-price", giftcard ? "catalog.value" : "catalog.price", h("input", {
      id: "pf-price", "data-field": "price", inputmode: "decimal", autocomplete: "off", value: values.price, "aria-describedby": "pf-price-hint",
    }), h("span", { id: "pf-price-hint", class: "note hint" }, t("catalog.price_hint"))),
    giftcard ? null : field("pf-vat", "catalog.vat", h("select", { id: "pf-vat", "data-field": "vat_rate" },
      ...["7", "19"].map((rate) => h("option", { value: rate, selected: rate === values.vat_rate }, t(`catalog.vat.${rate}`)))))),
  giftcard ? h("p", { class: "note" }, t("catalog.giftcard_form")) : null,
  field("pf-category", "catalog.category", h("input", { id: "pf-category", "data-field": "category", maxlength: 200, autocomplete: "off", list: "pf-categories", value: values.category })),
  h("datalist", { id: "pf-categories" }, ...categories().map((category) => h("option", { value: category }))),
  field("pf-description", "catalog.description", h("textarea", { id: "pf-description", "data-field": "description", maxlength: 1000, rows: 2 }, values.description)),
  h("label", { class: "choice", for: "pf-available" },
    h("input", { type: "checkbox", id: "pf-available", "data-field": "available", checked: values.available }), t("catalog.available")),
  giftcard ? null : [
    h("label", { class: "choice", for: "pf-tracked" },
      h("input", { type: "checkbox", id: "pf-tracked", "data-field": "stock_tracked", checked: values.stock_tracked }), t("catalog.stock_tracked")),
    h("div", { id: "pf-low-field", class: "field", hidden: !values.stock_tracked },
      h("label", { for: "pf-low" }, t("catalog.low_stock_at")),
      h("input", { id: "pf-low", type: "number", inputmode: "numeric", min: 0, max: MOST_UNITS, "data-field": "low_stock_at", class: "count", value: values.low_stock_at })),
  ],
  h("div", { id: "product-form-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
  h("p", { class: "actions" },
    h("button", { type: "submit", class: "primary" }, t(form.id ? "catalog.save" : "catalog.create")),
    h("button", { type: "button", id: "product-cancel", onclick: closeProductForm }, t("catalog.cancel"))))));
}

function readProductForm() {
  const values = catalog.productForm.values;
  Object.assign(values, {
    name: $("pf-name").value, price: $("pf-price").value, vat_rate: $("pf-vat")?.value || values.vat_rate, category: $("pf-category").value,
    description: $("pf-description").value, available: $("pf-available").checked,
    stock_tracked: $("pf-tracked")?.checked || false, low_stock_at: $("pf-low")?.value || "",
  });
  if ($("pf-low-field")) $("pf-low-field").hidden = !values.stock_tracked;
}

/** A new product's id, from its name: "Laugenbrezel groß" → "laugenbrezel-gross", numbered when taken. */
function newProductId(name) {
  const base = name.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, "-").slice(0, 60).replace(/^-+|-+$/g, "") || "artikel";
  const taken = new Set(catalog.products.map((product) => product.id));
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

async function saveProduct(event) {
  event.preventDefault();
  say("");
  readProductForm();
  const form = $("product-form");
  const alertBox = $("product-form-alert");
  clearProblem(form, alertBox);
  const { id, product, values } = catalog.productForm;
  const price = parseCents(values.price);
  const low = values.low_stock_at.trim();
  const errors = [];
  if (!values.name.trim()) errors.push({ field: "name", message: t("catalog.name_required") });
  if (price === null) errors.push({ field: "price", message: t("catalog.price_invalid") });
  if (values.stock_tracked && low && !wholeNumber(low, 0)) errors.push({ field: "low_stock_at", message: t("catalog.count_invalid") });
  if (errors.length) return refuse(form, alertBox, errors);
  const body = {
    name: values.name.trim(), price, vat_rate: values.kind === "giftcard" ? null : values.vat_rate, kind: values.kind,
    category: values.category.trim() || null, description: values.description.trim() || null, options: product?.options || [],
    available: values.available, stock_tracked: values.stock_tracked, low_stock_at: values.stock_tracked && low ? Number(low) : null,
  };
  await busy(form, async () => {
    try {
      const saved = await board.staffCall(API.staff, productPath(id || newProductId(body.name)), { method: "PUT", body });
      catalog.productForm = null;
      renderProductForm();
      await loadCatalog();
      say(t(id ? "catalog.saved" : "catalog.created", { name: saved.name }));
      ($(`product-${saved.id}`) || $("products-title")).focus();
    } catch (error) {
      showFormProblem(form, alertBox, error);
    }
  });
}

async function hideProduct(product) {
  say("");
  const yes = await confirmed(t("catalog.hide_title", { name: product.name }), t("catalog.hide_what"), t("catalog.hide"));
  if (!yes) return;
  try {
    await board.staffCall(API.staff, productPath(product.id), { method: "DELETE" });
    if (catalog.productForm?.id === product.id) catalog.productForm = null;
    await loadCatalog();
    say(t("catalog.hidden", { name: product.name }));
  } catch (error) {
    showAlert($("catalog-alert"), error, board.t);
    if (error instanceof Problem && error.code === "product_not_found") await loadCatalog();
  }
  $("products-title").focus();
}

// -- a tracked product's stock: units in or out, or the count set, each with its reason --

function openStock(product) {
  catalog.stockDraft = catalog.stockDraft?.id === product.id ? null : { id: product.id, mode: "add", units: "", reason: MODES.add };
  renderProducts();
  (catalog.stockDraft ? $(`stock-${product.id}-add`) : $(`stock-open-${product.id}`)).focus();
}

function closeStock() {
  const id = catalog.stockDraft.id;
  catalog.stockDraft = null;
  renderProducts();
  $(`stock-open-${id}`)?.focus();
}

function stockForm(product) {
  const draft = catalog.stockDraft;
  const id = (suffix) => `stock-${product.id}-${suffix}`;
  return h("form", { id: id("form"), class: "stock-form", novalidate: true, onsubmit: (event) => bookStock(event, product), oninput: stockChanged, onchange: stockChanged },
    h("fieldset", {},
      h("legend", {}, t("catalog.stock_title", { name: product.name })),
      h("fieldset", { class: "modes" },
        h("legend", {}, t("catalog.mode")),
        ...Object.keys(MODES).map((mode) => h("label", { class: "choice", for: id(mode) },
          h("input", { type: "radio", id: id(mode), name: id("mode"), value: mode, checked: draft.mode === mode }), t(`catalog.mode.${mode}`)))),
      h("div", { class: "row" },
        h("div", {}, h("label", { for: id("units") }, t(draft.mode === "set" ? "catalog.units_counted" : "catalog.units")),
          h("input", { id: id("units"), type: "number", inputmode: "numeric", min: draft.mode === "set" ? 0 : 1, max: MOST_UNITS, "data-field": "units", class: "count", value: draft.units })),
        h("div", {}, h("label", { for: id("reason") }, t("catalog.reason")),
          h("select", { id: id("reason"), "data-field": "reason" }, ...REASONS.map((reason) => h("option", { value: reason, selected: reason === draft.reason }, t(`catalog.reason.${reason}`)))))),
      h("div", { id: id("alert"), class: "alert", role: "alert", tabindex: "-1", hidden: true }),
      h("p", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, t("catalog.book")),
        h("button", { type: "button", onclick: closeStock }, t("catalog.cancel")))));
}

/** Typed into the stock form: kept; another kind of change suggests its reason. */
function stockChanged(event) {
  const draft = catalog.stockDraft;
  const { name, value } = event.target;
  if (event.target.type === "radio" && name.endsWith("-mode") && value !== draft.mode) {
    Object.assign(draft, { mode: value, reason: MODES[value] });
    renderProducts();
  } else if (event.target.dataset.field === "units") draft.units = value;
  else if (event.target.dataset.field === "reason") draft.reason = value;
}

async function bookStock(event, product) {
  event.preventDefault();
  say("");
  const draft = catalog.stockDraft;
  const form = event.target;
  const alertBox = $(`stock-${product.id}-alert`);
  clearProblem(form, alertBox);
  const least = draft.mode === "set" ? 0 : 1;
  if (!wholeNumber(draft.units, least)) {
    return refuse(form, alertBox, [{ field: "units", message: t(least ? "catalog.units_invalid" : "catalog.count_invalid") }]);
  }
  const units = Number(draft.units);
  const body = draft.mode === "set" ? { set: units, reason: draft.reason } : { adjust: draft.mode === "add" ? units : -units, reason: draft.reason };
  await busy(form, async () => {
    try {
      const level = await board.staffCall(API.staff, productPath(product.id, "/stock"), { method: "POST", body });
      catalog.stockDraft = null;
      await loadCatalog();
      say(t("catalog.stock_booked", { name: product.name, stock: level.stock }));
      $(`product-${product.id}`)?.focus();
    } catch (error) {
      if (!(error instanceof Problem && error.code === "insufficient_stock")) {
        return showFormProblem(form, alertBox, error, (field) => (["adjust", "set"].includes(field) ? "units" : field));
      }
      await loadCatalog(); // the count it was refused on, shown and said
      const now = productNamed(product.id);
      const box = $(`stock-${product.id}-alert`);
      if (!box) return;
      fill(box, h("strong", {}, now ? t("catalog.insufficient", { name: product.name, stock: now.stock }) : t("problem.insufficient_stock")));
      box.hidden = false;
      box.focus();
    }
  });
}

// ---- promotions ----------------------------------------------------------------------------------

function renderPromotions() {
  keepingFocus(() => fill($("promotions"), catalog.promotions.length
    ? catalog.promotions.map(promotionCard)
    : h("li", { class: "note empty" }, t("catalog.no_promotions"))), $("promotions-title"));
}

function appliesTo({ products, categories: named }) {
  if (!products.length && !named.length) return t("catalog.on_all");
  const what = [...products.map((id) => productNamed(id)?.name || id), ...named.map((category) => t("catalog.of_category", { category }))];
  return t("catalog.on", { what: what.join(", ") });
}

function promotionCard(promotion) {
  const name = promotionName(promotion);
  const off = promotion.percent !== null
    ? t("catalog.off_percent", { percent: board.t.lang() === "de" ? promotion.percent.replace(".", ",") : promotion.percent })
    : t("catalog.off_amount", { amount: m(promotion.amount) });
  return h("li", { class: `promotion ${promotion.status}`, "data-promotion": promotion.id, "aria-labelledby": `promotion-${promotion.id}` },
    h("h3", { id: `promotion-${promotion.id}`, tabindex: "-1" }, name),
    promotion.code && promotion.name ? h("p", { class: "note" }, promotion.name) : null,
    h("p", { class: "promotion-terms" }, h("strong", {}, off), " ", appliesTo(promotion.applies_to)),
    h("p", { class: "note" }, t("catalog.window", { from: at(promotion.starts_at), to: at(promotion.ends_at) })),
    h("p", { class: "note" }, promotion.channels.map((channel) => t(`catalog.channel.${channel}`)).join(" · ")),
    h("p", { class: "badges" }, h("span", { class: `badge ${promotion.status}` }, t(`catalog.status.${promotion.status}`)),
      h("span", { class: "uses" }, promotion.max_uses === null
        ? t("catalog.uses", { uses: promotion.uses })
        : t("catalog.uses_of", { uses: promotion.uses, max: promotion.max_uses }))),
    may(EDIT_ROLES) && promotion.status !== "ended" ? h("p", { class: "actions" }, h("button", {
      type: "button", class: "small danger", "aria-label": t("catalog.end_label", { name }), onclick: () => endPromotion(promotion),
    }, t("catalog.end"))) : null);
}

/** "2025-05-01T09:30" as a datetime-local input holds it: the device's own time. */
function localInput(moment) {
  return new Date(moment.getTime() - moment.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function openPromotionForm() {
  const start = new Date();
  start.setSeconds(0, 0);
  catalog.promotionDraft = {
    kind: "percent", percent: "", amount: "", scope: "all", products: [], categories: [],
    starts_at: localInput(start), ends_at: localInput(new Date(start.getTime() + PROMOTION_DAYS * 86400000)),
    channels: [...CHANNELS], max_uses: "", code: "", name: "",
  };
  renderPromotionForm();
  $("promotion-form-title").focus();
}

function closePromotionForm() {
  catalog.promotionDraft = null;
  renderPromotionForm();
  $("promotion-new").focus();
}

function renderPromotionForm() {
  const box = $("promotion-form-box");
  const draft = catalog.promotionDraft;
  if (!box || !draft) return box && fill(box);
  const radio = (name, value, key) => h("label", { class: "choice", for: `pr-${name}-${value}` },
    h("input", { type: "radio", id: `pr-${name}-${value}`, name: `pr-${name}`, value, checked: draft[name] === value }), t(key));
  const check = (group, value, text) => h("label", { class: "choice", for: `pr-${group}-${value}` },
    h("input", { type: "checkbox", id: `pr-${group}-${value}`, name: `pr-${group}`, value, checked: draft[group].includes(value) }), text);
  const input = (name, key, attributes = {}, hint = null) => h("div", { class: "field" }, h("label", { for: `pr-${name}` }, t(key)),
    h("input", { id: `pr-${name}`, name, "data-field": name, autocomplete: "off", value: draft[name], ...attributes }), hint);
  const named = categories();
  keepingFocus(() => fill(box, h("form", {
    id: "promotion-form", class: "record", novalidate: true, "aria-labelledby": "promotion-form-title",
    onsubmit: createPromotion, oninput: promotionChanged, onchange: promotionChanged,
  },
  h("h3", { id: "promotion-form-title", tabindex: "-1" }, t("catalog.new_promotion")),
  h("fieldset", {},
    h("legend", {}, t("catalog.discount")),
    h("div", { class: "choices" }, radio("kind", "percent", "catalog.kind.percent"), radio("kind", "amount", "catalog.kind.amount")),
    draft.kind === "percent"
      ? input("percent", "catalog.percent", { inputmode: "decimal", class: "count" })
      : input("amount", "catalog.amount", { inputmode: "decimal", class: "count" })),
  h("fieldset", {},
    h("legend", {}, t("catalog.applies")),
    h("div", { class: "choices" }, ...["all", "products", "categories"].map((scope) => radio("scope", scope, `catalog.scope.${scope}`))),
    draft.scope === "products" ? h("div", { class: "picks", "data-field": "applies_to" },
      ...items().map((product) => check("products", product.id, product.name))) : null,
    draft.scope === "categories" ? h("div", { class: "picks", "data-field": "applies_to" }, named.length
      ? named.map((category) => check("categories", category, category))
      : h("p", { class: "note" }, t("catalog.no_categories"))) : null),
  h("div", { class: "row" },
    input("starts_at", "catalog.starts", { type: "datetime-local" }),
    input("ends_at", "catalog.ends", { type: "datetime-local" })),
  h("fieldset", {},
    h("legend", {}, t("catalog.channels")),
    h("div", { class: "choices", "data-field": "channels" }, ...CHANNELS.map((channel) => check("channels", channel, t(`catalog.channel.${channel}`))))),
  h("div", { class: "row" },
    input("code", "catalog.code", { maxlength: 32, autocapitalize: "characters", spellcheck: "false", "aria-describedby": "pr-code-hint" },
      h("span", { id: "pr-code-hint", class: "note hint" }, t("catalog.code_hint"))),
    input("name", "catalog.promotion_name", { maxlength: 200 })),
  input("max_uses", "catalog.max_uses", { type: "number", inputmode: "numeric", min: 1, class: "count" }),
  h("div", { id: "promotion-form-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
  h("p", { class: "actions" },
    h("button", { type: "submit", class: "primary" }, t("catalog.promotion_create")),
    h("button", { type: "button", onclick: closePromotionForm }, t("catalog.cancel"))))));
}

/** Typed into the promotion's form: kept; another kind or scope shows its own fields. */
function promotionChanged(event) {
  const draft = catalog.promotionDraft;
  const { name, value, type, checked } = event.target;
  const key = name.replace(/^pr-/, "");
  if (type === "radio") {
    if (draft[key] === value) return;
    draft[key] = value;
    renderPromotionForm();
  } else if (type === "checkbox") {
    draft[key] = checked ? [...new Set([...draft[key], value])] : draft[key].filter((kept) => kept !== value);
  } else if (key in draft) draft[key] = value;
}

function promotionBody(draft) {
  const errors = [];
  const body = { channels: CHANNELS.filter((channel) => draft.channels.includes(channel)) };
  if (draft.kind === "percent") {
    body.percent = draft.percent.trim().replace(",", ".");
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(body.percent) || !(Number(body.percent) > 0 && Number(body.percent) <= 100)) {
      errors.push({ field: "percent", message: t("catalog.percent_invalid") });
    }
  } else {
    body.amount = parseCents(draft.amount);
    if (!body.amount) errors.push({ field: "amount", message: t("catalog.amount_invalid") });
  }
  body.applies_to = {
    products: draft.scope === "products" ? draft.products.filter(productNamed) : [],
    categories: draft.scope === "categories" ? draft.categories.filter((category) => categories().includes(category)) : [],
  };
  if (draft.scope === "products" && !body.applies_to.products.length) errors.push({ field: "applies_to", message: t("catalog.pick_products") });
  if (draft.scope === "categories" && !body.applies_to.categories.length) errors.push({ field: "applies_to", message: t("catalog.pick_categories") });
  const [starts, ends] = [new Date(draft.starts_at), new Date(draft.ends_at)];
  if (Number.isNaN(starts.getTime())) errors.push({ field: "starts_at", message: t("catalog.time_invalid") });
  if (Number.isNaN(ends.getTime())) errors.push({ field: "ends_at", message: t("catalog.time_invalid") });
  else if (ends <= starts) errors.push({ field: "ends_at", message: t("catalog.ends_after") });
  else if (ends <= new Date()) errors.push({ field: "ends_at", message: t("catalog.ends_ahead") });
  if (!errors.some(({ field }) => field.endsWith("_at"))) Object.assign(body, { starts_at: starts.toISOString(), ends_at: ends.toISOString() });
  if (!body.channels.length) errors.push({ field: "channels", message: t("catalog.pick_channel") });
  body.code = draft.code.trim() || null;
  body.name = draft.name.trim() || null;
  if (body.code && !/^[A-Za-z0-9_-]{3,32}$/.test(body.code)) errors.push({ field: "code", message: t("catalog.code_invalid") });
  if (!body.code && !body.name) errors.push({ field: "name", message: t("catalog.name_needed") });
  body.max_uses = draft.max_uses.trim() ? Number(draft.max_uses) : null;
  if (draft.max_uses.trim() && !wholeNumber(draft.max_uses, 1, 10_000_000)) errors.push({ field: "max_uses", message: t("catalog.units_invalid") });
  return { body, errors };
}

async function createPromotion(event) {
  event.preventDefault();
  say("");
  const form = $("promotion-form");
  const alertBox = $("promotion-form-alert");
  clearProblem(form, alertBox);
  const { body, errors } = promotionBody(catalog.promotionDraft);
  if (errors.length) return refuse(form, alertBox, errors);
  await busy(form, async () => {
    try {
      const made = await board.staffCall(API.staff, board.storePath("/promotions"), { method: "POST", body });
      catalog.promotionDraft = null;
      renderPromotionForm();
      await loadCatalog();
      say(t("catalog.promotion_created", { name: promotionName(made) }));
      ($(`promotion-${made.id}`) || $("promotions-title")).focus();
    } catch (error) {
      showFormProblem(form, alertBox, error, (field) => (field.startsWith("applies_to") ? "applies_to" : field));
    }
  });
}

async function endPromotion(promotion) {
  const name = promotionName(promotion);
  say("");
  if (!(await confirmed(t("catalog.end_title", { name }), t("catalog.end_what"), t("catalog.end")))) return;
  try {
    await board.staffCall(API.staff, board.storePath(`/promotions/${encodeURIComponent(promotion.id)}`), { method: "DELETE" });
    await loadCatalog();
    say(t("catalog.ended", { name }));
  } catch (error) {
    showAlert($("catalog-alert"), error, board.t);
  }
  ($(`promotion-${promotion.id}`) || $("promotions-title")).focus();
}

// ---- purchasing: suppliers, purchase orders, goods received --------------------------------------

function renderSuppliers() {
  fill($("suppliers"), catalog.suppliers.length
    ? catalog.suppliers.map((supplier) => h("li", { class: "supplier", "data-supplier": supplier.id },
      h("strong", {}, supplier.name),
      h("span", { class: "note" }, [supplier.email, supplier.customer_number ? t("catalog.customer_number_shown", { number: supplier.customer_number }) : null]
        .filter(Boolean).join(" · "))))
    : h("li", { class: "note empty" }, t("catalog.no_suppliers")));
}

function supplierForm() {
  const input = (name, key, attributes = {}) => h("div", { class: "field" }, h("label", { for: `sp-${name}`, "data-t": key }),
    h("input", { id: `sp-${name}`, name, "data-field": name, autocomplete: "off", maxlength: 200, ...attributes }));
  return h("details", { class: "register", id: "supplier-add" },
    h("summary", { "data-t": "catalog.add_supplier" }),
    h("form", { id: "supplier-form", novalidate: true, onsubmit: addSupplier },
      input("name", "catalog.supplier_name"),
      input("email", "catalog.supplier_email", { type: "email", maxlength: 254 }),
      input("customer_number", "catalog.customer_number", { maxlength: 64 }),
      h("div", { id: "supplier-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
      h("p", {}, h("button", { type: "submit", class: "primary", "data-t": "catalog.supplier_create" }))));
}

async function addSupplier(event) {
  event.preventDefault();
  say("");
  const form = $("supplier-form");
  const alertBox = $("supplier-alert");
  clearProblem(form, alertBox);
  const [name, email, number] = ["name", "email", "customer_number"].map((field) => $(`sp-${field}`).value.trim());
  const errors = [];
  if (!name) errors.push({ field: "name", message: t("catalog.name_required") });
  if (!/^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$/.test(email)) errors.push({ field: "email", message: t("catalog.email_invalid") });
  if (errors.length) return refuse(form, alertBox, errors);
  await busy(form, async () => {
    try {
      const made = await board.staffCall(API.staff, board.storePath("/suppliers"), {
        method: "POST", body: { name, email, customer_number: number || null },
      });
      form.reset();
      $("supplier-add").open = false;
      if (catalog.orderDraft && !catalog.orderDraft.supplier_id) catalog.orderDraft.supplier_id = made.id;
      await loadCatalog();
      say(t("catalog.supplier_added", { name: made.name }));
    } catch (error) {
      showFormProblem(form, alertBox, error);
    }
  });
}

const newLine = () => ({ product_id: items()[0]?.id || "", name: "", quantity: "1", unit: UNITS[0] });

function renderOrderForm() {
  const box = $("order-form-box");
  if (!catalog.suppliers.length) return fill(box, h("p", { class: "note" }, t("catalog.first_supplier")));
  catalog.orderDraft ??= { supplier_id: "", lines: [newLine()] };
  const draft = catalog.orderDraft;
  if (!supplierNamed(draft.supplier_id)) draft.supplier_id = catalog.suppliers[0].id;
  keepingFocus(() => fill(box, h("form", { id: "order-form", novalidate: true, "aria-labelledby": "order-form-title", onsubmit: sendOrder, oninput: orderChanged, onchange: orderChanged },
    h("label", { for: "po-supplier" }, t("catalog.supplier")),
    h("select", { id: "po-supplier", "data-field": "supplier_id", "data-key": "supplier_id" },
      ...catalog.suppliers.map((supplier) => h("option", { value: supplier.id, selected: supplier.id === draft.supplier_id }, supplier.name))),
    h("ol", { class: "order-lines" }, ...draft.lines.map(orderLine)),
    h("p", {}, h("button", { type: "button", id: "po-add-line", class: "small", onclick: addLine }, t("catalog.add_line"))),
    h("div", { id: "order-form-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", {}, h("button", { type: "submit", id: "po-send", class: "primary wide" }, t("catalog.send_order"))))));
}

function orderLine(line, index) {
  const id = (suffix) => `po-line-${index}-${suffix}`;
  const field = (suffix) => `lines[${index}].${suffix}`;
  const n = index + 1;
  return h("li", { class: "order-line" }, h("fieldset", {},
    h("legend", {}, t("catalog.line", { n })),
    h("label", { for: id("product") }, t("catalog.line_product")),
    h("select", { id: id("product"), "data-field": field("product_id"), "data-line": index, "data-key": "product_id" },
      ...items().map((product) => h("option", { value: product.id, selected: product.id === line.product_id }, product.name)),
      h("option", { value: "", selected: !line.product_id }, t("catalog.free_text"))),
    line.product_id ? null : [h("label", { for: id("name") }, t("catalog.line_name")),
      h("input", { id: id("name"), "data-field": field("name"), "data-line": index, "data-key": "name", maxlength: 200, autocomplete: "off", value: line.name })],
    h("div", { class: "row" },
      h("div", {}, h("label", { for: id("quantity") }, t("catalog.quantity")),
        h("input", { id: id("quantity"), type: "number", inputmode: "numeric", min: 1, max: MOST_UNITS, class: "count", "data-field": field("quantity"), "data-line": index, "data-key": "quantity", value: line.quantity })),
      h("div", {}, h("label", { for: id("unit") }, t("catalog.unit")),
        h("input", { id: id("unit"), list: "unit-suggestions", maxlength: 20, autocomplete: "off", "data-field": field("unit"), "data-line": index, "data-key": "unit", value: line.unit }))),
    catalog.orderDraft.lines.length > 1 ? h("button", { type: "button", id: id("remove"), class: "small danger", onclick: () => removeLine(index) }, t("catalog.remove_line", { n })) : null));
}

/** Typed into the purchase order's form: kept, and the next "Order" is a new attempt; a line turned
 * into free text (or back) shows its field for the name. */
function orderChanged(event) {
  const { key, line } = event.target.dataset;
  if (!key) return;
  const draft = catalog.orderDraft;
  catalog.orderAttempt = new Attempt();
  if (line === undefined) draft[key] = event.target.value;
  else {
    const wasFree = !draft.lines[line].product_id;
    draft.lines[line][key] = event.target.value;
    if (key === "product_id" && wasFree !== !event.target.value) renderOrderForm();
  }
}

function addLine() {
  catalog.orderDraft.lines.push(newLine());
  catalog.orderAttempt = new Attempt();
  renderOrderForm();
  $(`po-line-${catalog.orderDraft.lines.length - 1}-product`).focus();
}

function removeLine(index) {
  catalog.orderDraft.lines.splice(index, 1);
  catalog.orderAttempt = new Attempt();
  renderOrderForm();
  $("po-add-line").focus();
}

async function sendOrder(event) {
  event.preventDefault();
  say("");
  const form = $("order-form");
  const alertBox = $("order-form-alert");
  clearProblem(form, alertBox);
  const draft = catalog.orderDraft;
  const errors = [];
  const lines = draft.lines.map((line, index) => {
    const field = (name) => `lines[${index}].${name}`;
    if (!line.product_id && !line.name.trim()) errors.push({ field: field("name"), message: t("catalog.line_name_required") });
    if (!wholeNumber(line.quantity, 1)) errors.push({ field: field("quantity"), message: t("catalog.units_invalid") });
    if (!line.unit.trim()) errors.push({ field: field("unit"), message: t("catalog.unit_required") });
    const what = line.product_id ? { product_id: line.product_id } : { name: line.name.trim() };
    return { ...what, quantity: Number(line.quantity), unit: line.unit.trim() };
  });
  if (errors.length) return refuse(form, alertBox, errors);
  const supplier = supplierNamed(draft.supplier_id);
  await busy(form, async () => {
    try {
      const order = await catalog.orderAttempt.run((key) => board.staffCall(API.staff, board.storePath("/purchase-orders"), {
        method: "POST", body: { supplier_id: supplier.id, lines }, idempotencyKey: key,
      }));
      catalog.orderAttempt = new Attempt();
      catalog.orderDraft = null;
      await loadCatalog();
      say(t("catalog.order_sent", { number: order.number, supplier: supplier.name, email: supplier.email }));
      ($(`po-${order.id}`) || $("orders-title")).focus();
    } catch (error) {
      showFormProblem(form, alertBox, error);
    }
  });
}

function renderOrders() {
  keepingFocus(() => fill($("purchase-orders"), catalog.orders.length
    ? catalog.orders.map(orderCard)
    : h("li", { class: "note empty" }, t("catalog.no_orders"))), $("orders-title"));
}

function orderCard(order) {
  const supplier = supplierNamed(order.supplier_id);
  return h("li", { class: `purchase-order ${order.status}`, "data-order": order.id, "aria-labelledby": `po-${order.id}` },
    h("h3", { id: `po-${order.id}`, tabindex: "-1" }, t("catalog.order_title", { number: order.number, supplier: supplier?.name || order.supplier_id })),
    h("p", { class: "badges" }, h("span", { class: `badge ${order.status}` }, t(`catalog.po.${order.status}`)),
      h("span", { class: "note" }, t("catalog.ordered_at", { time: at(order.created_at) }))),
    h("div", { id: `po-${order.id}-alert`, class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("ul", { class: "po-lines" }, ...order.lines.map((line) => orderedLine(order, line))));
}

function orderedLine(order, line) {
  const open = line.quantity - line.received;
  const key = `${order.id}:${line.line}`;
  const id = `arrived-${order.id}-${line.line}`;
  return h("li", { class: "po-line", "data-line": line.line },
    h("p", {}, h("strong", {}, line.name), line.product_id ? null : h("span", { class: "note" }, ` (${t("catalog.free_line")})`)),
    h("p", { class: "note line-state" }, t("catalog.line_state", { quantity: line.quantity, unit: line.unit, received: line.received })),
    open > 0 && may(STOCK_ROLES) ? h("div", { class: "receive" },
      h("div", {}, h("label", { for: id }, t("catalog.arrived", { unit: line.unit })),
        h("input", {
          id, type: "number", inputmode: "numeric", min: 1, max: open, class: "count", value: catalog.arrivals.get(key) ?? String(open),
          oninput: (event) => { catalog.arrivals.set(key, event.target.value); catalog.receiveAttempts.delete(key); },
        })),
      h("button", {
        type: "button", id: `receive-${order.id}-${line.line}`, class: "primary", "aria-label": t("catalog.receive_label", { name: line.name }),
        onclick: (event) => receive(event.target, order, line),
      }, t("catalog.receive"))) : null);
}

/** One line's goods received: one attempt per line and what was typed, its key reused by a retry. */
async function receive(button, order, line) {
  say("");
  const key = `${order.id}:${line.line}`;
  const alertBox = $(`po-${order.id}-alert`);
  const input = $(`arrived-${order.id}-${line.line}`);
  clearProblem(alertBox.parentElement, alertBox);
  const open = line.quantity - line.received;
  if (!wholeNumber(input.value, 1, open)) {
    fill(alertBox, h("strong", {}, t("catalog.arrived_invalid", { open })));
    alertBox.hidden = false;
    input.setAttribute("aria-invalid", "true");
    return alertBox.focus();
  }
  const quantity = Number(input.value);
  if (!catalog.receiveAttempts.has(key)) catalog.receiveAttempts.set(key, new Attempt());
  button.disabled = true;
  try {
    await catalog.receiveAttempts.get(key).run((idempotencyKey) => board.staffCall(API.staff,
      board.storePath(`/purchase-orders/${encodeURIComponent(order.id)}/receive`),
      { method: "POST", body: { lines: [{ line: line.line, quantity }] }, idempotencyKey }));
    catalog.receiveAttempts.delete(key);
    catalog.arrivals.delete(key);
    await loadCatalog();
    const product = line.product_id && productNamed(line.product_id);
    const values = { quantity, unit: line.unit, name: line.name };
    say(product?.stock_tracked ? t("catalog.received_stock", { ...values, stock: product.stock }) : t("catalog.received", values));
    $(`po-${order.id}`)?.focus();
  } catch (error) {
    button.disabled = false;
    if (error instanceof Problem && error.code === "over_delivery") await loadCatalog();
    const box = $(`po-${order.id}-alert`);
    showAlert(box, error, board.t);
    box.focus();
  }
}

// ---- asking before what cannot be undone ---------------------------------------------------------

function confirmDialog() {
  return h("dialog", { id: "catalog-confirm", "aria-labelledby": "catalog-confirm-title", "aria-describedby": "catalog-confirm-what" },
    h("form", { method: "dialog" },
      h("h2", { id: "catalog-confirm-title" }),
      h("p", { id: "catalog-confirm-what" }),
      h("p", { class: "row" },
        h("button", { type: "submit", id: "catalog-confirm-yes", class: "danger", value: "yes" }),
        h("button", { type: "submit", id: "catalog-confirm-no", value: "no", "data-t": "catalog.cancel" }))));
}

/** Asks in a modal dialog, "Cancel" focused; answers whether the person confirmed. */
function confirmed(title, what, yes) {
  const dialog = $("catalog-confirm");
  $("catalog-confirm-title").textContent = title;
  $("catalog-confirm-what").textContent = what;
  $("catalog-confirm-yes").textContent = yes;
  dialog.returnValue = "";
  dialog.showModal();
  $("catalog-confirm-no").focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true }));
}
