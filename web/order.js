// The ordering page: menu → cart → checkout → the order's own page, which follows the order live (its
// stream, GET /v1/orders/{order}/live) and, while it is out for delivery, where the driver is.
// Prices are shown gross with their VAT rate, as German customers expect; the API computes every
// amount again from the catalog, so nothing shown here is trusted by the server.
import {
  API, Attempt, Problem, call, clearProblem, fill, followStream, h, makeTranslator, money, parseCents, showAlert, showProblem, time,
  translateStatic,
} from "./common.js";

const STRINGS = {
  de: {
    menu: "Speisekarte", cart: "Warenkorb", cart_bar: "Warenkorb: {count} Artikel · {total} – zur Kasse", cart_empty: "Noch nichts im Warenkorb.",
    closed_now: "Gerade geschlossen: Bestellungen sind erst wieder möglich, wenn geöffnet ist.",
    group_food: "Speisen", group_drinks: "Getränke", group_giftcards: "Gutscheine", group_other: "Weiteres",
    incl_vat: "inkl. {rate} % MwSt.", no_vat: "ohne MwSt. (Gutschein)", sold_out: "Ausverkauft",
    add: "In den Warenkorb", add_named: "{name} in den Warenkorb", options: "Extras für {name}",
    less: "Eins weniger: {name}", more: "Eins mehr: {name}",
    fulfilment: "Wie möchten Sie Ihre Bestellung?", pickup: "Abholen", table: "Am Tisch", delivery: "Lieferung",
    table_number: "Tischnummer", address: "Lieferadresse", you: "Ihre Angaben", name: "Name", email: "E-Mail",
    receipt_email: "Beleg als PDF zusenden", receipt_pdf: "Beleg (PDF)",
    extras: "Trinkgeld und Gutschein", tip: "Trinkgeld (€)", giftcard_code: "Gutscheincode",
    giftcard_check: "Guthaben prüfen", giftcard_balance: "Guthaben: {amount}",
    giftcard_unknown: "Diesen Gutschein kennen wir nicht.", giftcard_inactive: "Dieser Gutschein ist nicht aktiv.",
    payment: "Bezahlung", online: "Jetzt online bezahlen", on_site: "An der Kasse bezahlen",
    provider: "Online bezahlen mit", "provider.stripe": "Karte (Stripe)", "provider.sandbox": "Sandbox (Test)",
    "field.payment.provider": "Diese Zahlungsart ist gerade nicht verfügbar: bitte eine andere wählen.",
    total: "Summe", prices_gross: "Alle Preise inkl. MwSt.", place_order: "Zahlungspflichtig bestellen",
    sending: "Wird gesendet …", retrying: "Verbindung unterbrochen – neuer Versuch ({n}) …",
    to_checkout: "Weiter zur Bezahlung …",
    offline_title: "Keine Verbindung.", offline_detail: "Bitte erneut versuchen – es wird nichts doppelt bestellt.",
    error_title: "Das hat nicht geklappt.", tip_invalid: "Bitte einen Betrag wie 1,50 eingeben.",
    "field.customer.name": "Bitte geben Sie Ihren Namen an.",
    "field.customer.email": "Bitte eine gültige E-Mail-Adresse angeben.",
    "field.items": "Bitte wählen Sie mindestens einen Artikel.",
    "field.fulfilment.table": "Bitte die Tischnummer angeben.",
    "field.fulfilment.address": "Bitte die Lieferadresse angeben.",
    your_order: "Ihre Bestellung", order_number: "Abholnummer", invoice_number: "Rechnungsnummer",
    status: "Status", placed_at: "Bestellt am",
    pickup_at_counter: "Zum Abholen an der Theke.", at_table: "An Tisch {table}.", delivered_to: "Lieferung an: {address}", pay_again: "Erneut bezahlen", last_error: "Zahlung fehlgeschlagen: {error}",
    "status.awaiting_payment": "Wartet auf Zahlung", "status.paid": "Bezahlt", "status.placed": "Bestellt – Zahlung an der Kasse",
    "status.accepted": "In Zubereitung", "status.ready": "Abholbereit", "status.completed": "Abgeschlossen",
    "status.canceled": "Storniert", "status.rejected": "Abgelehnt",
    "status.out_for_delivery": "Unterwegs zu Ihnen", "status.delivered": "Geliefert",
    delivery_title: "Lieferung", delivery_driver: "{name} bringt Ihre Bestellung.", delivery_no_position: "Noch keine Position – gleich geht es los.",
    delivery_position: "Position: {lat}, {lng}", delivery_age_s: "Stand: vor {n} s", delivery_age_min: "Stand: vor {n} min",
    delivery_eta: "Ankunft in etwa {n} min", delivery_eta_now: "Gleich bei Ihnen", delivery_trail: "Weg des Fahrers: {n} Positionen, der Punkt ist die neueste",
    receipt: "Beleg", item: "Artikel", qty: "Menge", amount: "Betrag", subtotal: "Zwischensumme",
    discount: "Rabatt", giftcard_paid: "Mit Gutschein bezahlt", amount_due: "Zu zahlen", refunded: "Erstattet",
    vat_rate: "MwSt.-Satz", net: "Netto", vat: "MwSt.", gross: "Brutto",
    verify: "Diesen Beleg prüfen", verifying: "Wird geprüft …",
    verified: "Geprüft: Eintrag {seq} ({type}) steht im signierten Journal von {origin} (Stand: {size} Einträge).",
    not_checkpointed: "Noch nicht prüfbar: das Journal wird in Kürze signiert. Bitte später erneut versuchen.",
    verify_failed: "Prüfung fehlgeschlagen: {reason}",
    other_books: "der Nachweis gehört zum Journal eines anderen Geschäfts", other_entry: "der Nachweis gehört zu einer anderen Buchung",
    order_missing: "Diese Bestellung ist auf diesem Gerät nicht gespeichert.", new_order: "Neue Bestellung",
    store_missing: "Dieses Geschäft gibt es nicht.",
  },
  en: {
    menu: "Menu", cart: "Cart", cart_bar: "Cart: {count} items · {total} – check out", cart_empty: "Your cart is empty.",
    closed_now: "Closed right now: orders are possible again once we are open.",
    group_food: "Food", group_drinks: "Drinks", group_giftcards: "Gift cards", group_other: "More",
    incl_vat: "incl. {rate} % VAT", no_vat: "no VAT (gift card)", sold_out: "Sold out",
    add: "Add to cart", add_named: "Add {name} to cart", options: "Extras for {name}",
    less: "One less: {name}", more: "One more: {name}",
    fulfilment: "How would you like your order?", pickup: "Pick up", table: "At my table", delivery: "Delivery",
    table_number: "Table number", address: "Delivery address", you: "Your details", name: "Name", email: "E-mail",
    receipt_email: "Send me the receipt (PDF)", receipt_pdf: "Receipt (PDF)",
    extras: "Tip and gift card", tip: "Tip (€)", giftcard_code: "Gift card code",
    giftcard_check: "Check balance", giftcard_balance: "Balance: {amount}",
    giftcard_unknown: "We do not know this gift card.", giftcard_inactive: "This gift card is not active.",
    payment: "Payment", online: "Pay online now", on_site: "Pay at the counter",
    provider: "Pay online with", "provider.stripe": "Card (Stripe)", "provider.sandbox": "Sandbox (test)",
    "field.payment.provider": "This way to pay is not available right now: please choose another.",
    total: "Total", prices_gross: "All prices include VAT.", place_order: "Place order and pay",
    sending: "Sending …", retrying: "Connection lost – trying again ({n}) …", to_checkout: "On to payment …",
    offline_title: "No connection.", offline_detail: "Please try again – nothing will be ordered twice.",
    error_title: "That did not work.", tip_invalid: "Please enter an amount such as 1.50.",
    "field.customer.name": "Please tell us your name.",
    "field.customer.email": "Please enter a valid e-mail address.",
    "field.items": "Please choose at least one item.",
    "field.fulfilment.table": "Please enter your table number.",
    "field.fulfilment.address": "Please enter the delivery address.",
    your_order: "Your order", order_number: "Pickup number", invoice_number: "Invoice number",
    status: "Status", placed_at: "Ordered at",
    pickup_at_counter: "To pick up at the counter.", at_table: "At table {table}.", delivered_to: "Delivery to: {address}", pay_again: "Pay again", last_error: "Payment failed: {error}",
    "status.awaiting_payment": "Awaiting payment", "status.paid": "Paid", "status.placed": "Ordered – pay at the counter",
    "status.accepted": "Being prepared", "status.ready": "Ready for pickup", "status.completed": "Completed",
    "status.canceled": "Canceled", "status.rejected": "Rejected",
    "status.out_for_delivery": "On its way to you", "status.delivered": "Delivered",
    delivery_title: "Delivery", delivery_driver: "{name} is bringing your order.", delivery_no_position: "No position yet – setting off shortly.",
    delivery_position: "Position: {lat}, {lng}", delivery_age_s: "As of {n} s ago", delivery_age_min: "As of {n} min ago",
    delivery_eta: "Arriving in about {n} min", delivery_eta_now: "Almost there", delivery_trail: "The driver's way: {n} positions, the dot is the newest",
    receipt: "Receipt", item: "Item", qty: "Qty", amount: "Amount", subtotal: "Subtotal",
    discount: "Discount", giftcard_paid: "Paid by gift card", amount_due: "To pay", refunded: "Refunded",
    vat_rate: "VAT rate", net: "Net", vat: "VAT", gross: "Gross",
    verify: "Verify this receipt", verifying: "Verifying …",
    verified: "Verified: entry {seq} ({type}) is in the signed journal of {origin} (size {size}).",
    not_checkpointed: "Not verifiable yet: the journal is signed shortly. Please try again later.",
    verify_failed: "Verification failed: {reason}",
    other_books: "the proof belongs to another shop's journal", other_entry: "the proof belongs to another booking",
    order_missing: "This order is not stored on this device.", new_order: "New order",
    store_missing: "There is no such shop.",
  },
};
const FINAL = new Set(["completed", "canceled", "rejected", "delivered"]);
const TRAIL_POSITIONS = 20; // the delivery box draws the driver's last positions seen on this page

const t = makeTranslator(STRINGS);
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const storeId = params.get("store") || "demo";

const state = { store: null, products: [], cart: [], order: null, attempt: new Attempt() };
// the order's stream while its page is open, and what it said last of the driver (only while out for delivery)
const live = { orderId: null, stop: null, tracking: null, receivedAt: 0, trail: [], ticker: null };

// ---- the menu ------------------------------------------------------------------------------------

function groupOf(product) {
  if (product.kind === "giftcard") return "group_giftcards";
  return { 7: "group_food", 19: "group_drinks" }[product.vat_rate] || "group_other";
}

function renderMenu() {
  const { store, products } = state;
  $("store-name").textContent = store.name;
  document.title = `${store.name} – ${t("menu")}`;
  $("closed").hidden = store.open_now;
  const groups = new Map();
  for (const product of products) {
    const key = groupOf(product);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(product);
  }
  fill($("menu"),
    ...[...groups].map(([key, items]) =>
      h("section", { "aria-label": t(key) }, h("h3", {}, t(key)), ...items.map(renderProduct))),
  );
}

function renderProduct(product) {
  const price = money(product.price, state.store.currency, t.lang());
  const vat = product.vat_rate ? t("incl_vat", { rate: product.vat_rate }) : t("no_vat");
  const soldOut = !product.available;
  const boxes = product.options.map((option) =>
    h("label", { class: "choice" },
      h("input", { type: "checkbox", value: option.id, disabled: soldOut }),
      `${option.name} (+${money(option.price, state.store.currency, t.lang())})`));
  const card = h("article", { class: `product${soldOut ? " sold-out" : ""}`, "data-product": product.id },
    h("strong", {}, product.name),
    h("span", { class: "price" }, price),
    h("span", { class: "note vat" }, vat),
    boxes.length ? h("fieldset", { class: "options" }, h("legend", {}, t("options", { name: product.name })), ...boxes) : null,
    h("button", {
      type: "button", class: "add small", disabled: soldOut, "aria-label": soldOut ? null : t("add_named", { name: product.name }),
      onclick: () => addToCart(product, boxes.map((box) => box.querySelector("input")).filter((i) => i.checked).map((i) => i.value)),
    }, soldOut ? t("sold_out") : t("add")));
  return card;
}

// ---- the cart ------------------------------------------------------------------------------------

function unitPrice(line) {
  const extras = line.product.options.filter((o) => line.options.includes(o.id)).reduce((sum, o) => sum + o.price, 0);
  return line.product.price + extras;
}

function addToCart(product, options) {
  const same = state.cart.find((line) => line.product.id === product.id && line.options.join() === options.join());
  if (same) same.quantity = Math.min(99, same.quantity + 1);
  else state.cart.push({ product, options, quantity: 1 });
  changed();
}

function setQuantity(line, quantity) {
  line.quantity = quantity;
  state.cart = state.cart.filter((l) => l.quantity > 0);
  changed();
}

/** Anything the customer changes makes it a different order: the next Pay is a new attempt. */
function changed() {
  state.attempt = new Attempt();
  renderCart();
}

function renderCart() {
  const currency = state.store.currency;
  $("cart-empty").hidden = state.cart.length > 0;
  fill($("cart"), ...state.cart.map((line) => {
    const names = line.product.options.filter((o) => line.options.includes(o.id)).map((o) => o.name);
    const label = names.length ? `${line.product.name} (${names.join(", ")})` : line.product.name;
    return h("div", { class: "cart-line" },
      h("span", {}, label),
      h("span", { class: "qty" },
        h("button", { type: "button", class: "small", "aria-label": t("less", { name: label }), onclick: () => setQuantity(line, line.quantity - 1) }, "−"),
        h("span", { "aria-live": "polite" }, String(line.quantity)),
        h("button", { type: "button", class: "small", "aria-label": t("more", { name: label }), onclick: () => setQuantity(line, Math.min(99, line.quantity + 1)) }, "+"),
        h("span", { class: "num" }, money(unitPrice(line) * line.quantity, currency, t.lang()))));
  }));
  const subtotal = state.cart.reduce((sum, line) => sum + unitPrice(line) * line.quantity, 0);
  const tip = parseCents($("tip").value || "0") ?? 0;
  $("cart-total").textContent = money(subtotal + tip, currency, t.lang());
  // on a phone the cart is far below the menu: a bar at the bottom says what is in it and leads there
  const count = state.cart.reduce((sum, line) => sum + line.quantity, 0);
  $("cart-bar").hidden = count === 0;
  $("cart-bar").textContent = t("cart_bar", { count, total: money(subtotal, currency, t.lang()) });
}

const chosen = (name) => document.querySelector(`input[name=${name}]:checked`)?.value;

/** Radio buttons for each of `values`: the one chosen before (a change of language keeps it), else the first. */
function radios(name, values, label, onchange) {
  const keep = values.includes(chosen(name)) ? chosen(name) : values[0];
  return values.map((value) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value, checked: value === keep, onchange }), label(value)));
}

function renderChoices() {
  const { store } = state;
  fill($("fulfilment-choices"), ...radios("fulfilment", store.fulfilment_types, t, showFulfilmentFields));
  fill($("payment-choices"), ...radios("payment", store.payment_methods, t, showProviders));
  // who takes online payments, default first: a choice only where there is one
  const providers = store.online_providers || [];
  fill($("provider-choices"), ...(providers.length > 1
    ? radios("provider", providers, (name) => (t.has(`provider.${name}`) ? t(`provider.${name}`) : name)) : []));
  showFulfilmentFields();
  showProviders();
}

function showProviders() {
  $("provider-field").hidden = chosen("payment") !== "online" || !chosen("provider");
}

function showFulfilmentFields() {
  const type = chosen("fulfilment");
  $("table-field").hidden = type !== "table";
  $("address-field").hidden = type !== "delivery";
}

async function checkGiftcard() {
  const out = $("giftcard-balance");
  try {
    const card = await call(API.customer, "/v1/giftcards/balance", { method: "POST", body: { code: $("giftcard").value } });
    out.textContent = card.status === "active"
      ? t("giftcard_balance", { amount: money(card.balance, card.currency, t.lang()) })
      : t("giftcard_inactive");
  } catch (error) {
    out.textContent = error instanceof Problem && error.status === 404 ? t("giftcard_unknown") : error.message;
  }
}

// ---- checkout ------------------------------------------------------------------------------------

function orderRequest() {
  const type = chosen("fulfilment");
  const method = chosen("payment");
  const provider = method === "online" ? chosen("provider") : undefined;
  const fulfilment = { type };
  if (type === "table") fulfilment.table = $("table").value.trim();
  if (type === "delivery") fulfilment.address = $("address").value.trim();
  const code = $("giftcard").value.trim();
  return {
    items: state.cart.map((line) => ({ product_id: line.product.id, quantity: line.quantity, options: line.options })),
    fulfilment,
    customer: { name: $("name").value.trim(), email: $("email").value.trim() },
    tip: parseCents($("tip").value || "0"),
    gift_cards: code ? [{ code }] : [],
    payment: provider ? { method, provider } : { method }, // without a choice: the store's default provider
    ...($("receipt-email").checked ? { receipt: "email" } : {}),
  };
}

async function placeOrder(event) {
  event.preventDefault();
  const form = $("checkout");
  const alertBox = $("checkout-alert");
  const pay = $("pay");
  clearProblem(form, alertBox);
  const body = orderRequest();
  if (body.tip === null) {
    showProblem(form, alertBox, new Problem(422, { title: t("error_title"), errors: [{ field: "tip", message: t("tip_invalid") }] }), t);
    return;
  }
  pay.disabled = true;
  $("progress").textContent = t("sending");
  try {
    const order = await state.attempt.run((key) => call(API.customer, `/v1/stores/${encodeURIComponent(storeId)}/orders`, {
      method: "POST", body, idempotencyKey: key, onRetry: (n) => ($("progress").textContent = t("retrying", { n })),
    }));
    rememberOrder(order);
    const orderPage = `${location.origin}${location.pathname}?store=${encodeURIComponent(storeId)}#order=${order.id}`;
    if (order.payment?.checkout_url && order.amount_due > 0) {
      $("progress").textContent = t("to_checkout");
      location.assign(checkoutAddress(order.payment, orderPage));
    } else {
      location.hash = `order=${order.id}`;
    }
  } catch (error) {
    $("progress").textContent = "";
    showProblem(form, alertBox, error, t);
    pay.disabled = false;
  }
}

/** The provider's checkout, told where to send the customer back to; Stripe's is Stripe's own (it
 * knows where to send them back already) and is used as it is. */
function checkoutAddress(payment, orderPage) {
  if (payment.provider === "stripe") return payment.checkout_url;
  const address = new URL(payment.checkout_url);
  address.searchParams.set("return", orderPage);
  return address.href;
}

// ---- the order's page ----------------------------------------------------------------------------

// The access token is shown once, in the answer to the order: this device keeps it to follow the order.
function rememberOrder(order) {
  localStorage.setItem(`tresen.order.${order.id}`, order.access_token);
}

function orderToken(orderId) {
  return localStorage.getItem(`tresen.order.${orderId}`);
}

function followOrder(orderId) {
  const token = orderToken(orderId);
  if (!token) {
    fill($("order"), h("p", { class: "notice" }, t("order_missing")), newOrderLink());
    return;
  }
  if (live.orderId === orderId) return;
  stopFollowing();
  live.orderId = orderId;
  live.stop = followStream(API.customer, {
    path: () => `/v1/orders/${encodeURIComponent(orderId)}/live`,
    headers: async () => ({ "X-Order-Token": token }),
    onEvent: orderEvent,
    onDown: (error) => showAlert($("page-alert"), error, t),
    onRefused: (problem) => {
      showAlert($("page-alert"), problem, t);
      return false;
    },
  });
}

function stopFollowing() {
  live.stop?.();
  clearInterval(live.ticker);
  Object.assign(live, { orderId: null, stop: null, tracking: null, receivedAt: 0, trail: [], ticker: null });
}

function orderEvent({ event, data }) {
  $("page-alert").hidden = true;
  if (event === "order") {
    state.order = data;
    if (data.status !== "out_for_delivery") live.tracking = null; // nothing of the driver before or after
    renderOrder();
    if (FINAL.has(data.status)) stopFollowing();
  } else if (event === "tracking") {
    live.tracking = data.status === "out_for_delivery" ? data : null;
    live.receivedAt = performance.now();
    const position = data.position;
    const last = live.trail.at(-1);
    const moved = position && !(last && last.at === position.at && last.lat === position.lat && last.lng === position.lng);
    if (moved) live.trail = [...live.trail, position].slice(-TRAIL_POSITIONS);
    renderDelivery();
  }
}

/** How old the driver's position is: as old as the API said when it came, and a second more each second. */
function positionAge() {
  const seconds = live.tracking.stale_seconds + Math.floor((performance.now() - live.receivedAt) / 1000);
  return seconds < 120 ? t("delivery_age_s", { n: seconds }) : t("delivery_age_min", { n: Math.floor(seconds / 60) });
}

/** The driver's last positions as a line, the newest as a dot, in a small square (north up, not to scale across latitudes). */
function trailMap(trail) {
  const lats = trail.map((p) => p.lat);
  const lngs = trail.map((p) => p.lng);
  const middle = (values) => (Math.max(...values) + Math.min(...values)) / 2;
  const span = Math.max(Math.max(...lats) - Math.min(...lats), Math.max(...lngs) - Math.min(...lngs), 0.0005); // ≥ ~50 m
  const x = (p) => 50 + ((p.lng - middle(lngs)) / span) * 80;
  const y = (p) => 50 - ((p.lat - middle(lats)) / span) * 80;
  const svg = (tag, attributes) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    return el;
  };
  const map = svg("svg", { viewBox: "0 0 100 100", class: "trail", role: "img", "aria-label": t("delivery_trail", { n: trail.length }) });
  map.append(svg("polyline", { points: trail.map((p) => `${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(" ") }));
  const newest = trail.at(-1);
  map.append(svg("circle", { cx: x(newest).toFixed(1), cy: y(newest).toFixed(1), r: 5 }));
  return map;
}

/** The delivery box: only while the order is out for delivery. */
function renderDelivery() {
  const box = $("delivery");
  if (!box) return;
  const tracking = live.tracking;
  clearInterval(live.ticker);
  box.hidden = state.order?.status !== "out_for_delivery" || !tracking;
  if (box.hidden) return fill(box);
  const position = tracking.position;
  const eta = tracking.eta_minutes;
  fill(box,
    h("h3", { id: "delivery-title" }, t("delivery_title")),
    tracking.driver ? h("p", { id: "delivery-driver" }, t("delivery_driver", { name: tracking.driver.first_name })) : null,
    position ? [
      h("p", { id: "delivery-eta", class: "eta" }, eta === null ? null : eta <= 1 ? t("delivery_eta_now") : t("delivery_eta", { n: eta })),
      h("p", { id: "delivery-position" }, t("delivery_position", { lat: position.lat.toFixed(5), lng: position.lng.toFixed(5) })),
      h("p", { id: "delivery-age", class: "note" }, positionAge()),
      trailMap(live.trail),
    ] : h("p", { class: "note" }, t("delivery_no_position")));
  if (position) live.ticker = setInterval(() => ($("delivery-age").textContent = positionAge()), 1000);
}

function fulfilmentSummary(fulfilment) {
  if (fulfilment.type === "table") return t("at_table", { table: fulfilment.table });
  if (fulfilment.type === "delivery") return t("delivered_to", { address: fulfilment.address });
  return t("pickup_at_counter");
}

function newOrderLink() {
  return h("p", {}, h("a", { class: "button", href: `?store=${encodeURIComponent(storeId)}` }, t("new_order")));
}

function renderOrder() {
  const order = state.order;
  if (!order) return;
  const m = (cents) => money(cents, order.currency, t.lang());
  const row = (label, cents, id) => h("tr", {}, h("th", { scope: "row", colspan: 2 }, label), h("td", { class: "num", id }, m(cents)));
  const payAgain = order.status === "awaiting_payment" && order.payment?.checkout_url
    ? h("a", { class: "button primary", href: checkoutAddress(order.payment, location.href) }, t("pay_again"))
    : null;
  fill($("order"),
    h("p", {}, t("order_number")),
    h("p", { class: "big-number", id: "order-number" }, String(order.number)),
    h("p", { role: "status", "aria-live": "polite" },
      `${t("status")}: `, h("span", { class: "status-pill", id: "order-status", "data-status": order.status }, t(`status.${order.status}`))),
    order.last_payment_error && order.status === "awaiting_payment"
      ? h("p", { class: "alert" }, t("last_error", { error: order.last_payment_error })) : null,
    payAgain,
    order.invoice_number
      ? h("p", {}, `${t("invoice_number")}: `, h("strong", { id: "invoice-number" }, order.invoice_number), " ",
        h("button", { type: "button", class: "small", id: "receipt-pdf", onclick: downloadReceipt }, t("receipt_pdf"))) : null,
    h("p", { id: "fulfilment-summary" }, fulfilmentSummary(order.fulfilment)),
    h("section", { id: "delivery", class: "delivery", "aria-labelledby": "delivery-title", hidden: true }),
    h("p", { class: "note" }, `${t("placed_at")}: ${time(order.created_at, t.lang())}`),
    h("h3", {}, t("receipt")),
    h("table", { id: "receipt" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("item")), h("th", { scope: "col", class: "num" }, t("qty")), h("th", { scope: "col", class: "num" }, t("amount")))),
      h("tbody", {}, ...order.lines.map((line) => h("tr", {},
        h("td", {}, line.name, line.options.length ? h("div", { class: "note" }, line.options.map((o) => o.name).join(", ")) : null),
        h("td", { class: "num" }, String(line.quantity)),
        h("td", { class: "num" }, m(line.total))))),
      h("tfoot", {},
        row(t("subtotal"), order.totals.subtotal),
        order.totals.discount ? row(t("discount"), -order.totals.discount) : null,
        order.totals.tip ? row(t("tip").replace(" (€)", ""), order.totals.tip) : null,
        row(t("total"), order.totals.total, "order-total"),
        order.gift_card_amount ? row(t("giftcard_paid"), -order.gift_card_amount, "giftcard-amount") : null,
        row(t("amount_due"), order.amount_due, "amount-due"),
        order.refunded_amount ? row(t("refunded"), order.refunded_amount, "refunded-amount") : null)),
    h("table", { id: "vat-table", "aria-label": t("vat") },
      h("thead", {}, h("tr", {}, ...["vat_rate", "net", "vat", "gross"].map((k, i) => h("th", { scope: "col", class: i ? "num" : null }, t(k))))),
      h("tbody", {}, ...order.totals.vat.map((v) => h("tr", {},
        h("td", {}, `${v.rate} %`), h("td", { class: "num" }, m(v.net)), h("td", { class: "num" }, m(v.tax)), h("td", { class: "num" }, m(v.gross)))))),
    h("p", {}, h("button", { type: "button", id: "verify", onclick: verifyReceipt }, t("verify"))),
    h("p", { id: "verify-result", role: "status", "aria-live": "polite" }),
    newOrderLink(),
  );
  renderDelivery();
}

/** The receipt needs the order's token, so it is fetched here and saved under its number. */
async function downloadReceipt(event) {
  const button = event.currentTarget;
  const order = state.order;
  button.disabled = true;
  try {
    const pdf = await call(API.customer, `/v1/orders/${encodeURIComponent(order.id)}/receipt.pdf`,
      { headers: { "X-Order-Token": orderToken(order.id) }, as: "blob" });
    const link = h("a", { href: URL.createObjectURL(pdf), download: `Beleg ${order.invoice_number}.pdf`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000); // the browser has saved it by then
  } catch (error) {
    showAlert($("page-alert"), error, t);
  } finally {
    button.disabled = false;
  }
}

async function verifyReceipt() {
  const out = $("verify-result");
  const order = state.order;
  out.className = "note";
  out.textContent = t("verifying");
  try {
    const [{ verifyReceiptProof }, proofs, keys] = await Promise.all([
      import("./verify.js"),
      call(API.customer, `/v1/orders/${encodeURIComponent(order.id)}/proof`, { headers: { "X-Order-Token": orderToken(order.id) } }),
      call(API.staff, "/v1/journal/public-keys"),
    ]);
    const lines = [];
    for (const item of proofs.proofs) {
      const result = await verifyReceiptProof(item.proof, keys);
      // a valid proof of some other entry, or of another store's books, proves nothing about this order
      if (!result.origin.endsWith(`/${order.store_id}`)) throw new Error(t("other_books"));
      if (result.entry.seq !== item.seq || result.entry.data?.order_id !== order.id) throw new Error(t("other_entry"));
      lines.push(t("verified", { seq: item.seq, type: item.type, origin: result.origin, size: result.treeSize }));
    }
    out.className = "ok";
    fill(out, ...lines.map((line) => h("span", { class: "line" }, line)));
  } catch (error) {
    out.className = "notice";
    out.textContent = error instanceof Problem && error.code === "not_checkpointed"
      ? t("not_checkpointed") : t("verify_failed", { reason: error.message });
  }
}

// ---- start ---------------------------------------------------------------------------------------

function route() {
  const match = location.hash.match(/^#order=([\w-]{1,64})$/);
  $("menu-view").hidden = Boolean(match);
  $("order-view").hidden = !match;
  if (!match || match[1] !== live.orderId) stopFollowing();
  if (match) {
    $("order-title").focus(); // a screen reader hears where the page went
    followOrder(match[1]);
  }
}

function relabel() {
  translateStatic(t);
  $("language").textContent = t.lang() === "de" ? "English" : "Deutsch";
  $("language").lang = t.lang() === "de" ? "en" : "de";
  if (state.store) {
    renderMenu();
    renderChoices();
    renderCart();
    renderOrder();
  }
}

async function start() {
  relabel();
  $("language").addEventListener("click", () => { t.toggle(); relabel(); });
  $("checkout").addEventListener("submit", placeOrder);
  $("checkout").addEventListener("input", (event) => {
    if (event.target.id === "tip") renderCart();
    state.attempt = new Attempt();
  });
  $("giftcard-check").addEventListener("click", checkGiftcard);
  window.addEventListener("hashchange", route);
  try {
    const menu = await call(API.customer, `/v1/stores/${encodeURIComponent(storeId)}/menu`);
    state.store = menu.store;
    state.products = menu.products;
  } catch (error) {
    const missing = error instanceof Problem && error.status === 404;
    showAlert($("page-alert"), missing ? t("store_missing") : error, t);
    return;
  }
  relabel();
  route();
}

start();
