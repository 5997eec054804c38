// The staff board (tablet first): sign in, follow the orders live, act on them, gift cards, customers, the till
// (till.js), the catalog (catalog.js), closing.
// In dev the sign-in makes an unsigned ID token as the Firebase Auth emulator issues them; in
// production it signs in through Firebase Auth's REST API (no SDK: nothing is loaded from elsewhere).
import {
  API, Attempt, FIREBASE, Problem, Unreachable, call, clearProblem, fill, followStream, h, makeTranslator, money, parseCents, showAlert,
  showProblem, time, translateStatic,
} from "./common.js";
import { claimsOf, firebaseAuth, tokenKeeper } from "./firebase_auth.js";
import { TILL_STRINGS, connectTill, forgetTill, leaveTill, openTill, relabelTill } from "./till.js";
import { CATALOG_STRINGS, connectCatalog, forgetCatalog, openCatalog, relabelCatalog } from "./catalog.js";

const STRINGS = {
  de: {
    title: "Tresen – Personal", sign_in: "Anmelden", sign_out: "Abmelden",
    dev_hint: "Entwicklung: Anmeldung mit einem unsignierten Token, wie der Auth-Emulator es ausstellt.",
    user_id: "Benutzer-ID", role: "Rolle", email: "E-Mail", password: "Passwort", store: "Geschäft",
    "role.staff": "Personal", "role.supervisor": "Schichtleitung", "role.owner": "Inhaber", "role.finance": "Buchhaltung",
    no_access: "Dieses Konto hat keinen Zugang zu diesem Geschäft.", session_expired: "Bitte erneut anmelden.",
    "problem.sign_in_failed": "Anmeldung fehlgeschlagen: E-Mail oder Passwort stimmen nicht.",
    board: "Bestellungen", giftcards: "Gutscheine", closing: "Tagesabschluss",
    "column.awaiting_payment": "Wartet auf Zahlung", "column.new": "Neu", "column.accepted": "In Arbeit", "column.ready": "Abholbereit",
    accept: "Annehmen", mark_ready: "Fertig", complete: "Abgeholt", reject: "Ablehnen", details: "Details",
    order_title: "Bestellung {number} – {name}",
    live: "Live", reconnecting: "Verbindung unterbrochen – verbinde neu …", connecting: "Verbinde …",
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
    licence_overdue: "Eine Lizenzrechnung ({amount}) ist überfällig. Ihre Bestellungen laufen weiter – bitte bezahlen Sie sie im",
    portal: "Kundenportal",
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
    check_fields: "Bitte die markierten Angaben prüfen.",
    customers: "Kunden", customer_search: "Suche nach Name, E-Mail oder Telefon", search: "Suchen",
    customer_search_hint: "Leer lassen und suchen zeigt alle.", customer_new: "Neuer Kunde",
    customers_found: "{count} gefunden.", customers_shown: "{count} gezeigt, es gibt weitere.", customers_none: "Niemand gefunden.",
    more_customers: "Weitere zeigen", back_to_list: "← Zur Kundenliste", pick_customer: "Suchen Sie einen Kunden oder legen Sie einen neuen an.",
    no_name: "(ohne Namen)", "field.query.q": "Bitte die Telefonnummer vollständig eingeben, z. B. 0171 2345678.",
    "label.given_name": "Vorname", "label.family_name": "Nachname", "label.email": "E-Mail", "label.phone": "Telefon",
    "label.company": "Firma", "label.birthday": "Geburtstag", "label.note": "Notiz", "label.address": "Adresse",
    "label.street": "Straße und Hausnummer", "label.postal_code": "PLZ", "label.city": "Ort", "label.country": "Land",
    "label.created_at": "Angelegt", "label.updated_at": "Zuletzt geändert",
    phone_hint: "z. B. 0171 2345678 oder +43 660 1234567", birthday_hint: "TT.MM.JJJJ", country_hint: "Ländercode, z. B. DE oder AT",
    needed_hint: "Nötig ist ein Name, eine E-Mail-Adresse oder eine Telefonnummer.",
    new_customer: "Neuer Kunde", edit_customer: "{name} bearbeiten", save: "Speichern", cancel: "Abbrechen", edit: "Bearbeiten",
    customer_created: "Kunde angelegt.", customer_saved: "Gespeichert.", nothing_changed: "Nichts geändert.",
    changed_title: "Inzwischen geändert.",
    changed_detail: "Jemand anderes hat diesen Kunden geändert, seit Sie ihn geöffnet haben. Der neue Stand ist geladen, Ihre Eingaben sind erhalten: bitte prüfen und erneut speichern.",
    changed_fields: "Geändert wurde: {fields}.",
    exists_title: "Diesen Kunden gibt es schon.", exists_detail: "Ein Kunde dieses Geschäfts hat schon diese E-Mail-Adresse oder Telefonnummer.",
    open_existing: "{name} öffnen",
    export_data: "Daten exportieren", exported: "Export gespeichert: {file}", erase: "Löschen",
    erase_title: "{name} löschen?",
    erase_what: "Gelöscht werden die Kundendaten, die Einwilligungen und die Verbindung zu den Bestellungen; auf den Bestellungen werden Name, E-Mail und Telefon entfernt.",
    erase_kept: "Erhalten bleiben die Bestellungen selbst, ohne Angaben zur Person – nur wo das Steuerrecht es verlangt, bleibt der Name auf einer Rechnung über 250 €, 8 Jahre lang.",
    erase_final: "Das lässt sich nicht rückgängig machen.", erase_confirm: "Endgültig löschen",
    erased_title: "{name} ist gelöscht.", erased_nothing_kept: "Nichts wird aufbewahrt: keine Rechnung braucht den Namen.",
    erased_kept: "Aufbewahrt, weil das Gesetz es verlangt:", kept_entry: "Bestellung {order}: der Name auf der Rechnung, bis {until}",
    "kept.invoice_name": "Name des Empfängers einer Rechnung über 250 € (§ 14 Abs. 4 UStG), aufzubewahren 8 Jahre nach dem Jahr der Rechnung (§ 147 Abs. 3 AO).",
    consents: "Einwilligung in Werbung", "channel.email": "Werbung per E-Mail", "channel.sms": "Werbung per SMS",
    consent_now: "Stand:", "consent.granted": "erteilt", "consent.withdrawn": "widerrufen", "consent.never_asked": "nie gefragt",
    consent_history: "Verlauf", consent_none: "Noch nichts erfasst.", consent_source: "Woher", consent_wording: "Wortlaut, wie er dem Kunden gezeigt wurde",
    "source.in_person": "im Geschäft, mündlich", "source.in_writing": "im Geschäft, schriftlich", "source.phone": "am Telefon",
    "source.email": "per E-Mail", "source.import": "aus der importierten Kundenliste",
    "wording.email": "Ja, ich möchte Neuigkeiten und Angebote dieses Geschäfts per E-Mail bekommen. Diese Einwilligung kann ich jederzeit widerrufen.",
    "wording.sms": "Ja, ich möchte Neuigkeiten und Angebote dieses Geschäfts per SMS bekommen. Diese Einwilligung kann ich jederzeit widerrufen.",
    record_granted: "Einwilligung erfassen", record_withdrawn: "Widerruf erfassen", consent_recorded: "{channel}: {state} erfasst.",
    consent_by: "von {who}", "by.import": "Import", wording_missing: "Bitte den Wortlaut angeben.",
    customer_orders: "Bestellungen", no_orders: "Noch keine Bestellungen.", more_orders: "Ältere Bestellungen zeigen",
    order_no: "Nr.", date: "Datum", open_customer: "Kunde: {name} öffnen", open_customer_plain: "Kundendaten öffnen",
    import_title: "Kundenliste importieren",
    import_hint: "Eine CSV-Datei, wie Excel sie speichert („CSV UTF-8“ oder „CSV (Trennzeichen-getrennt)“). Spalten: Vorname, Nachname, E-Mail, Telefon, Firma, Geburtstag, Notiz, Newsletter (ja/nein).",
    import_file: "CSV-Datei", dry_run: "Probelauf", import_now: "Importieren", import_choose: "Bitte zuerst eine CSV-Datei wählen.",
    dry_result: "Probelauf: {rows} Zeilen – {create} neu, {update} zu ändern, {unchanged} unverändert, {errors} mit Fehlern. Noch ist nichts gespeichert.",
    import_first_errors: "Die ersten Fehler", import_more_errors: "… und {count} weitere.", line: "Zeile", field: "Feld", problem: "Problem",
    import_running: "Import läuft: {processed} von {rows} Zeilen verarbeitet.", import_progress: "Fortschritt des Imports",
    import_done: "Import abgeschlossen: {rows} Zeilen – {create} neu, {update} geändert, {unchanged} unverändert, {errors} mit Fehlern.",
    import_failed: "Der Import wurde unterbrochen. Bitte dieselbe Datei erneut importieren: was schon importiert ist, bleibt, wie es ist.",
    import_errors_csv: "Zeilen mit Fehlern herunterladen (CSV)",
    "said.email": "Keine gültige E-Mail-Adresse.", "said.phone": "Keine gültige Telefonnummer.",
    "said.extension": "Bitte die Nummer ohne Durchwahl angeben.", "said.date": "Bitte ein Datum wie 31.12.1980 angeben.",
    "said.no_such_date": "Den {value} gibt es nicht.", "said.before_1900": "Ein Geburtstag vor 1900 geht nicht.",
    "said.future": "Der Geburtstag liegt in der Zukunft.", "said.needed": "Nötig ist ein Name, eine E-Mail-Adresse oder eine Telefonnummer.",
    "said.control": "Enthält ein unzulässiges Steuerzeichen.", "said.too_long": "Höchstens {value} Zeichen.",
    "said.yes_no": "Bitte ja, nein, x oder nichts angeben.", "said.two_customers": "E-Mail und Telefon gehören zu zwei verschiedenen Kunden.",
    "said.country": "Bitte einen Ländercode aus zwei Buchstaben angeben, z. B. DE.",
    offline_title: "Keine Verbindung.", offline_detail: "Bitte erneut versuchen – nichts wird doppelt gebucht.",
    error_title: "Das hat nicht geklappt.",
  },
  en: {
    title: "Tresen – Staff", sign_in: "Sign in", sign_out: "Sign out",
    dev_hint: "Development: sign in with an unsigned token, as the Auth emulator issues them.",
    user_id: "User id", role: "Role", email: "E-mail", password: "Password", store: "Store",
    "role.staff": "Staff", "role.supervisor": "Supervisor", "role.owner": "Owner", "role.finance": "Finance",
    no_access: "This account has no access to this store.", session_expired: "Please sign in again.",
    "problem.sign_in_failed": "Sign-in failed: wrong e-mail or password.",
    board: "Orders", giftcards: "Gift cards", closing: "Closing",
    "column.awaiting_payment": "Awaiting payment", "column.new": "New", "column.accepted": "In progress", "column.ready": "Ready",
    accept: "Accept", mark_ready: "Ready", complete: "Picked up", reject: "Reject", details: "Details",
    order_title: "Order {number} – {name}",
    live: "Live", reconnecting: "Connection lost – reconnecting …", connecting: "Connecting …",
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
    licence_overdue: "A licence invoice ({amount}) is overdue. Your orders keep coming in – please pay it in the",
    portal: "customer portal",
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
    check_fields: "Please check the marked entries.",
    customers: "Customers", customer_search: "Search by name, e-mail or phone", search: "Search",
    customer_search_hint: "Search with nothing typed to see everyone.", customer_new: "New customer",
    customers_found: "{count} found.", customers_shown: "{count} shown, there are more.", customers_none: "Nobody found.",
    more_customers: "Show more", back_to_list: "← Back to the list", pick_customer: "Search for a customer or add a new one.",
    no_name: "(no name)", "field.query.q": "Enter the whole phone number, e.g. 0171 2345678.",
    "label.given_name": "First name", "label.family_name": "Last name", "label.email": "E-mail", "label.phone": "Phone",
    "label.company": "Company", "label.birthday": "Birthday", "label.note": "Note", "label.address": "Address",
    "label.street": "Street and number", "label.postal_code": "Postcode", "label.city": "City", "label.country": "Country",
    "label.created_at": "Added", "label.updated_at": "Last changed",
    phone_hint: "e.g. 0171 2345678 or +43 660 1234567", birthday_hint: "DD.MM.YYYY or YYYY-MM-DD", country_hint: "Country code, e.g. DE or AT",
    needed_hint: "A name, an e-mail address or a phone number is needed.",
    new_customer: "New customer", edit_customer: "Edit {name}", save: "Save", cancel: "Cancel", edit: "Edit",
    customer_created: "Customer added.", customer_saved: "Saved.", nothing_changed: "Nothing changed.",
    changed_title: "Changed meanwhile.",
    changed_detail: "Someone else changed this customer since you opened it. The new state is loaded and your entries are kept: check them and save again.",
    changed_fields: "Changed: {fields}.",
    exists_title: "This customer exists already.", exists_detail: "A customer of this store has this e-mail address or phone number already.",
    open_existing: "Open {name}",
    export_data: "Export data", exported: "Export saved: {file}", erase: "Erase",
    erase_title: "Erase {name}?",
    erase_what: "The customer's details, their consents and the link to their orders are erased; name, e-mail and phone are removed from the orders.",
    erase_kept: "The orders themselves stay, without the person – only where tax law requires it, the name on an invoice over 250 € stays for 8 years.",
    erase_final: "This cannot be undone.", erase_confirm: "Erase for good",
    erased_title: "{name} is erased.", erased_nothing_kept: "Nothing is kept: no invoice needs the name.",
    erased_kept: "Kept because the law requires it:", kept_entry: "Order {order}: the name on the invoice, until {until}",
    "kept.invoice_name": "The recipient's name on an invoice over 250 € (§ 14 (4) UStG), kept 8 years after the year of the invoice (§ 147 (3) AO).",
    consents: "Consent to marketing", "channel.email": "Marketing by e-mail", "channel.sms": "Marketing by text message",
    consent_now: "Now:", "consent.granted": "granted", "consent.withdrawn": "withdrawn", "consent.never_asked": "never asked",
    consent_history: "History", consent_none: "Nothing recorded yet.", consent_source: "Given how", consent_wording: "Wording as shown to the customer",
    "source.in_person": "in the shop, spoken", "source.in_writing": "in the shop, in writing", "source.phone": "on the phone",
    "source.email": "by e-mail", "source.import": "from the imported customer list",
    "wording.email": "Yes, I would like to get news and offers from this shop by e-mail. I can withdraw this consent at any time.",
    "wording.sms": "Yes, I would like to get news and offers from this shop by text message. I can withdraw this consent at any time.",
    record_granted: "Record consent", record_withdrawn: "Record withdrawal", consent_recorded: "{channel}: {state} recorded.",
    consent_by: "by {who}", "by.import": "import", wording_missing: "Enter the wording.",
    customer_orders: "Orders", no_orders: "No orders yet.", more_orders: "Show older orders",
    order_no: "No.", date: "Date", open_customer: "Open customer {name}", open_customer_plain: "Open the customer",
    import_title: "Import a customer list",
    import_hint: "A CSV file as Excel saves it (\u201cCSV UTF-8\u201d or \u201cCSV (comma delimited)\u201d). Columns: Vorname, Nachname, E-Mail, Telefon, Firma, Geburtstag, Notiz, Newsletter (ja/nein) – or given_name, family_name, email, phone, company, birthday, note, email_marketing.",
    import_file: "CSV file", dry_run: "Dry run", import_now: "Import", import_choose: "Choose a CSV file first.",
    dry_result: "Dry run: {rows} rows – {create} new, {update} to change, {unchanged} unchanged, {errors} with errors. Nothing is saved yet.",
    import_first_errors: "The first errors", import_more_errors: "… and {count} more.", line: "Line", field: "Field", problem: "Problem",
    import_running: "Importing: {processed} of {rows} rows done.", import_progress: "Import progress",
    import_done: "Import finished: {rows} rows – {create} new, {update} changed, {unchanged} unchanged, {errors} with errors.",
    import_failed: "The import was interrupted. Import the same file again: what was imported already stays as it is.",
    import_errors_csv: "Download the rows with errors (CSV)",
    "said.email": "Not a valid e-mail address.", "said.phone": "Not a valid phone number.",
    "said.extension": "Enter the number without an extension.", "said.date": "Enter a date such as 31.12.1980.",
    "said.no_such_date": "There is no such date as {value}.", "said.before_1900": "A birthday before 1900 is not possible.",
    "said.future": "The birthday is in the future.", "said.needed": "A name, an e-mail address or a phone number is needed.",
    "said.control": "Contains a control character.", "said.too_long": "At most {value} characters.",
    "said.yes_no": "Write ja, nein, x or leave it empty.", "said.two_customers": "The e-mail and the phone belong to two different customers.",
    "said.country": "Enter a two-letter country code such as DE.",
    offline_title: "No connection.", offline_detail: "Please try again – nothing is booked twice.",
    error_title: "That did not work.",
  },
};
for (const lang of Object.keys(STRINGS)) STRINGS[lang] = { ...TILL_STRINGS[lang], ...STRINGS[lang] }; // the till's own words
for (const lang of Object.keys(STRINGS)) STRINGS[lang] = { ...CATALOG_STRINGS[lang], ...STRINGS[lang] }; // the catalog's
const DEV_PROJECT = "demo-tresen"; // the dev mode's Firebase project id
const COLUMNS = { awaiting_payment: ["awaiting_payment"], new: ["paid", "placed"], accepted: ["accepted"], ready: ["ready"] };
const NEXT_STEP = { paid: ["accepted", "accept"], placed: ["accepted", "accept"], accepted: ["ready", "mark_ready"], ready: ["completed", "complete"] };
// The board follows the store's live stream (GET …/live); it reads the five columns only when it
// starts, or when it was away longer than a stream resumes (the API's 15 minutes), and every 30 s
// only while the stream is down. Idle, a board costs 2 reads per 5-minute stream: docs/architecture.md.
const FALLBACK_POLL_MS = 30000;
const RESUME_WINDOW_MS = 10 * 60 * 1000;
const PASSKEY_CODES = new Set(["passkey_required", "passkey_invalid", "passkey_locked"]);
const TABS = ["board", "giftcards", "customers", "closing", "till", "catalog", "stripe"];
const BILLING_ROLES = ["owner", "finance"]; // who reads the store's licence invoices
let overdue = []; // the store's overdue licence invoices, as the board last read them
const STRIPE_ROLES = ["owner", "supervisor"];
const NO_STRIPE = new Set(["connect_disabled", "provider_not_ready"]); // a deployment without Stripe (Connect)
const CUSTOMER_ROLES = ["owner", "supervisor", "staff"];
const IMPORT_ROLES = ["owner", "supervisor"];
const CUSTOMER_FIELDS = ["given_name", "family_name", "email", "phone", "company", "birthday", "note"];
const ADDRESS_FIELDS = ["street", "postal_code", "city", "country"];
const CHANNELS = ["email", "sms"];
const CONSENT_SOURCES = ["in_person", "in_writing", "phone", "email"];
const CUSTOMERS_PAGE = 20;
const ORDERS_PAGE = 10;
const IMPORT_POLL_MS = 700;
const IMPORT_ERRORS_SHOWN = 10;
const FILE_TIMEOUT_MS = 120000; // a dry run of a long list reads all of it before it answers
const FILE_RETRY_MS = [400, 1000, 2000, 4000];
// The API's words for a field's problem (domain/customer_fields.py), as the board says them.
const SAID = [
  [/^not an e-mail address$/, "said.email"], [/^not a phone number$/, "said.phone"],
  [/^a phone number without an extension/, "said.extension"], [/^not a date/, "said.date"],
  [/^there is no such date as (.+)$/, "said.no_such_date"], [/^a birthday before 1900$/, "said.before_1900"],
  [/^a birthday in the future$/, "said.future"], [/^a name, an e-mail address or a phone number is needed$/, "said.needed"],
  [/^contains a control character$/, "said.control"], [/^at most (\d+) characters$/, "said.too_long"],
  [/^not yes or no/, "said.yes_no"], [/^the e-mail and the phone belong to two different customers$/, "said.two_customers"],
  [/^String should match pattern '\^\[A-Z\]\{2\}\$'$/, "said.country"],
];

const t = makeTranslator(STRINGS);
const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("tresen.staff") || "null");
let boardTimer = null; // the fallback poll, while the stream is down
// what the board shows (order id → order) and where its stream stands
const board = { orders: new Map(), since: null, sinceAt: 0, filled: false, stop: null, state: "connecting", pending: null };
let currentOrder = null;
let detailAttempt = new Attempt();
let stripeAccount = null; // the store's account as the API last answered it
// Stripe's onboarding sends the owner back with ?stripe=return, or ?stripe=refresh when its link was spent
let stripeBack = ["return", "refresh"].includes(new URLSearchParams(location.search).get("stripe"))
  ? new URLSearchParams(location.search).get("stripe") : null;
const formAttempts = new Map(); // form id → the Attempt its next submit belongs to
// The one passkey prompt (the refund's): it moves to the form whose action the API asked it for.
const passkeyField = $("passkey-field");
const passkeyInput = $("passkey");

const m = (cents, currency = "EUR") => money(cents, currency, t.lang());
const storePath = (suffix = "") => `/v1/stores/${encodeURIComponent(session.store)}${suffix}`;

// ---- signing in ----------------------------------------------------------------------------------

function base64url(text) {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
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

async function firebaseSignIn(email, password) {
  return (await firebaseAuth()).signIn(email, password);
}

/** A valid ID token: renewed a few minutes before it expires, once for the board's parallel calls. */
const keepToken = tokenKeeper(renewToken);
const idToken = () => keepToken(session);

async function renewToken() {
  if (FIREBASE) {
    Object.assign(session, await (await firebaseAuth()).renew(session.refreshToken));
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
  stopBoard();
  stripeAccount = stripeBack = null;
  $("tab-stripe").hidden = true;
  overdue = [];
  $("licence-overdue").hidden = true;
  forgetCustomers();
  forgetTill();
  forgetCatalog();
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

/** Follows the store's live stream from now on, while signed in (on every tab: the board stays current). */
function startBoard() {
  renderBoard();
  if (board.stop) return;
  setLive("connecting");
  board.stop = followStream(API.staff, {
    path: () => {
      if (board.since && performance.now() - board.sinceAt > RESUME_WINDOW_MS) board.since = null;
      if (!board.since) board.filled = false; // a new start: the columns are read once it is ready
      return storePath(board.since ? `/live?${new URLSearchParams({ since: board.since })}` : "/live");
    },
    headers: async () => ({ Authorization: `Bearer ${await idToken()}` }),
    onEvent: boardEvent,
    onDown: () => {
      setLive("down");
      if (!boardTimer) boardTimer = setTimeout(pollWhileDown, FALLBACK_POLL_MS);
    },
    onRefused: (problem) => {
      if (problem.code === "unauthenticated") signOut(t("session_expired"));
      else if (problem.status === 422) board.since = null; // away too long to resume: start afresh
      else showAlert($("page-alert"), problem, t);
      return session !== null && problem.status === 422;
    },
  });
}

function stopBoard() {
  board.stop?.();
  clearTimeout(boardTimer);
  boardTimer = null;
  Object.assign(board, { orders: new Map(), since: null, sinceAt: 0, filled: false, stop: null, pending: null });
}

function boardEvent({ event, id, data }) {
  if (id) {
    board.since = id;
    board.sinceAt = performance.now();
  }
  if (event === "order") {
    if (board.pending) board.pending.push(data);
    else {
      applyOrder(data);
      renderBoard();
    }
  } else if (event === "ready") {
    setLive("live");
    clearTimeout(boardTimer);
    boardTimer = null;
    if (!board.filled) fillBoard();
  }
}

function setLive(state) {
  board.state = state;
  const status = $("live-status");
  status.dataset.state = state;
  status.textContent = t({ live: "live", down: "reconnecting", connecting: "connecting" }[state]);
}

/** An order as it is now: on the board while in one of its columns; an older state never overwrites a newer. */
function applyOrder(order) {
  const shown = board.orders.get(order.id);
  if (shown && Date.parse(shown.updated_at) > Date.parse(order.updated_at)) return;
  if (Object.values(COLUMNS).flat().includes(order.status)) board.orders.set(order.id, order);
  else board.orders.delete(order.id);
}

/** The five columns read afresh: when the board starts, after a long absence, and while the stream is
 * down. Events that arrive meanwhile are applied over what the columns answered. */
async function fillBoard() {
  if (!session || board.pending) return;
  const pending = (board.pending = []);
  try {
    const statuses = Object.values(COLUMNS).flat();
    const pages = await Promise.all(statuses.map((status) => staffCall(API.staff, storePath(`/orders?status=${status}&limit=100`))));
    board.orders = new Map(pages.flatMap((page) => page.data).map((order) => [order.id, order]));
    board.filled = true;
    $("page-alert").hidden = true;
  } catch (error) {
    if (session) showAlert($("page-alert"), error, t);
  }
  if (board.pending === pending) board.pending = null; // (signing out meanwhile has reset the board)
  pending.forEach(applyOrder);
  renderBoard();
}

async function pollWhileDown() {
  await fillBoard();
  boardTimer = session && board.state === "down" ? setTimeout(pollWhileDown, FALLBACK_POLL_MS) : null;
}

function renderBoard() {
  const orders = [...board.orders.values()];
  fill($("board"), ...Object.entries(COLUMNS).map(([column, statuses]) => {
    const inColumn = orders.filter((order) => statuses.includes(order.status)).sort((a, b) => a.created_at.localeCompare(b.created_at));
    return h("section", { class: "column", "data-column": column, "aria-label": t(`column.${column}`) },
      h("h2", {}, `${t(`column.${column}`)} (${inColumn.length})`), ...inColumn.map(ticket));
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
    applyOrder(await staffCall(API.staff, storePath(`/orders/${order.id}/status`), { method: "POST", body: { status } }));
    renderBoard(); // at once; the stream tells the other tablets
  } catch (error) {
    showAlert($("page-alert"), error, t);
  }
}

// ---- an order's detail: refund, void, discount, reject --------------------------------------------

async function openDetail(orderId) {
  const dialog = $("detail");
  clearProblem($("detail-form"), $("detail-alert"));
  $("detail-done").hidden = true;
  putPasskeyAway();
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
    order.customer_id && CUSTOMER_ROLES.includes(session.role)
      ? h("p", {}, h("button", { type: "button", id: "detail-customer", class: "small", onclick: () => showCustomerOf(order) },
        order.customer.name ? t("open_customer", { name: order.customer.name }) : t("open_customer_plain")))
      : null,
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
  const headers = passkeyHeaders(form);
  const buttons = [...$("detail-body").querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    const result = await detailAttempt.run((key) => staffCall(API.staff, storePath(path), {
      method: "POST", body, idempotencyKey: key, headers,
    }));
    detailAttempt = new Attempt();
    putPasskeyAway();
    currentOrder = await staffCall(API.staff, storePath(`/orders/${currentOrder.id}`));
    renderDetail();
    $("detail-done").textContent = describe(result);
    $("detail-done").hidden = false;
    applyOrder(currentOrder);
    renderBoard();
  } catch (error) {
    showProblemOrAskForPasskey(form, $("detail-alert"), error);
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

// ---- the passkey prompt: one field, shown in the form whose action needs it -----------------------

/** The passkey typed into the prompt, if the prompt is in this form. */
function passkeyHeaders(form) {
  const passkey = passkeyInput.value.trim();
  return form.contains(passkeyField) && !passkeyField.hidden && passkey ? { "X-Passkey": passkey } : {};
}

/** The problem beside the form; when the API asks for the passkey, the prompt too, focused. */
function showProblemOrAskForPasskey(form, alertBox, error) {
  const asked = error instanceof Problem && PASSKEY_CODES.has(error.code);
  if (asked) {
    if (!form.contains(passkeyField)) passkeyInput.value = "";
    alertBox.before(passkeyField);
    passkeyField.hidden = false;
    error.detail = `${error.detail} ${t("passkey_needed")}`;
  }
  showProblem(form, alertBox, error, t);
  if (asked) passkeyInput.focus();
}

/** Done with it: emptied, hidden, back in the order's dialog where it lives. */
function putPasskeyAway() {
  passkeyInput.value = "";
  passkeyField.hidden = true;
  $("detail-alert").before(passkeyField);
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

// ---- customers: search, a record with its consent and orders, create and edit, export, erase, import ----
// The panel is built when first opened and emptied on signing out: no customer's data stays in the page.

const customers = {
  q: "", results: [], next: null, searched: false, searching: 0,
  view: null, // null (the list only), "record", "form", "erased"
  record: null, orders: [], ordersNext: null,
  form: null, // {mode: "create"|"edit", id, version, base: the values the form was opened with}
  erased: null, // {name, retained, numbers}
};
const imports = { file: null, dry: null, dryAttempt: new Attempt(), runAttempt: new Attempt(), job: null, errorsFile: null, timer: null };

const nameOf = (c) => [c.given_name, c.family_name].filter(Boolean).join(" ") || c.company || c.email || c.phone || t("no_name");
/** A date without a time ("1980-04-03") as people here write it; no time zone can shift it. */
const isoDay = (iso) => (iso && t.lang() === "de" ? iso.split("-").reverse().join(".") : iso || "");
const customerPath = (id, suffix = "") => storePath(`/customers/${encodeURIComponent(id)}${suffix}`);

/** A field's problem as the board says it (the API says it in English). */
function said(message) {
  for (const [pattern, key] of SAID) {
    const match = pattern.exec(message);
    if (match) return t(key, { value: match[1] || "" });
  }
  return message;
}

function inOurWords(error) {
  if (!(error instanceof Problem)) return error;
  error.errors = error.errors.map((e) => ({ ...e, message: said(e.message) }));
  if (error.code === "validation_failed" && error.errors.length && error.errors.every((e) => e.field !== "body")) {
    error.title = t("check_fields"); // each problem is said beside its field
    error.detail = "";
  }
  return error;
}

function buildCustomers() {
  const panel = $("customers-panel");
  if (panel.firstChild) return;
  fill(panel, h("div", { class: "customers", id: "customers" },
    h("div", { class: "pane", id: "customer-list-pane" },
      h("form", { id: "customer-search", role: "search", novalidate: true, "aria-labelledby": "customers-title", onsubmit: searchCustomers },
        h("h2", { id: "customers-title", "data-t": "customers" }),
        h("label", { for: "customer-q", "data-t": "customer_search" }),
        h("div", { class: "row search" },
          h("div", {}, h("input", {
            id: "customer-q", type: "search", "data-field": "query.q", autocomplete: "off", spellcheck: "false",
            enterkeyhint: "search", "aria-describedby": "customer-q-hint",
          })),
          h("button", { type: "submit", class: "primary", "data-t": "search" })),
        h("p", { class: "note", id: "customer-q-hint", "data-t": "customer_search_hint" }),
        h("div", { id: "customer-search-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true })),
      h("p", {}, h("button", { type: "button", id: "customer-new", "data-t": "customer_new", onclick: () => openCustomerForm(null) })),
      h("p", { id: "customer-count", role: "status" }),
      h("ul", { id: "customer-results", class: "results" }),
      h("p", {}, h("button", { type: "button", id: "customer-more", hidden: true, "data-t": "more_customers", onclick: () => searchCustomers(null, true) })),
      IMPORT_ROLES.includes(session.role) ? importForm() : null),
    h("div", { class: "pane", id: "customer-pane" },
      h("p", { class: "back" }, h("button", { type: "button", id: "customer-back", class: "small", "data-t": "back_to_list", onclick: backToList })),
      h("p", { id: "customer-note", class: "ok", role: "status", hidden: true }),
      h("div", { id: "customer-view" }))));
  translateStatic(t, panel);
  renderCustomerPane();
}

/** Signing out: the panel emptied (the passkey prompt taken out first), every customer forgotten. */
function forgetCustomers() {
  clearTimeout(imports.timer);
  if ($("erase-dialog").open) $("erase-dialog").close();
  putPasskeyAway();
  Object.assign(customers, { q: "", results: [], next: null, searched: false, view: null, record: null, orders: [], ordersNext: null, form: null, erased: null });
  forgetImport();
  fill($("customers-panel"));
}

function say(text) {
  const note = $("customer-note");
  note.textContent = text || "";
  note.hidden = !text;
}

// ---- searching

async function searchCustomers(event, more = false) {
  event?.preventDefault();
  const form = $("customer-search");
  clearProblem(form, $("customer-search-alert"));
  if (!more) customers.q = $("customer-q").value.trim();
  const query = new URLSearchParams({ limit: String(CUSTOMERS_PAGE) });
  if (customers.q) query.set("q", customers.q);
  if (more) query.set("cursor", customers.next);
  const asked = ++customers.searching; // an older search answering late is dropped
  $("customer-results").setAttribute("aria-busy", "true");
  try {
    const page = await staffCall(API.staff, storePath(`/customers?${query}`));
    if (asked !== customers.searching) return;
    const before = customers.results.length;
    customers.results = more ? [...customers.results, ...page.data] : page.data;
    customers.next = page.has_more ? page.next_cursor : null;
    customers.searched = true;
    renderCustomerResults();
    if (more) $("customer-results").querySelectorAll("button")[before]?.focus();
  } catch (error) {
    if (asked === customers.searching) showProblem(form, $("customer-search-alert"), inOurWords(error), t);
  } finally {
    if (asked === customers.searching) $("customer-results")?.removeAttribute("aria-busy");
  }
}

function renderCustomerResults() {
  if (!$("customer-results")) return;
  const found = customers.results;
  $("customer-count").textContent = !customers.searched ? ""
    : !found.length ? t("customers_none") : t(customers.next ? "customers_shown" : "customers_found", { count: found.length });
  const open = customers.view === "record" || customers.view === "form" ? customers.record?.id : null;
  fill($("customer-results"), ...found.map((c) => h("li", {},
    h("button", { type: "button", class: "result", "data-customer": c.id, "aria-current": c.id === open ? "true" : false, onclick: () => openCustomer(c.id) },
      h("span", { class: "result-name" }, nameOf(c)),
      h("span", { class: "note" }, [c.email, c.phone, c.company].filter(Boolean).join(" · ") || "–")))));
  $("customer-more").hidden = !customers.next;
}

// ---- one customer

/** Opens a record with its newest orders; `note` says what was just done. */
async function openCustomer(id, note = "") {
  buildCustomers();
  $("customer-pane").setAttribute("aria-busy", "true");
  try {
    const [record, orders] = await Promise.all([
      staffCall(API.staff, customerPath(id)),
      staffCall(API.staff, customerPath(id, `/orders?limit=${ORDERS_PAGE}`)),
    ]);
    customers.record = record;
    customers.orders = orders.data;
    customers.ordersNext = orders.has_more ? orders.next_cursor : null;
    customers.view = "record";
    customers.results = customers.results.map((c) => (c.id === record.id ? record : c));
    renderCustomerPane();
    renderCustomerResults();
    say(note);
    $("customer-name").focus();
  } catch (error) {
    customers.view = null; // back to the list, where the problem is said
    renderCustomerPane();
    renderCustomerResults();
    showAlert($("customer-search-alert"), error, t);
    $("customer-search-alert").focus();
  } finally {
    $("customer-pane")?.removeAttribute("aria-busy");
  }
}

/** From an order's dialog to its customer. */
function showCustomerOf(order) {
  $("detail").close();
  selectTab("customers");
  openCustomer(order.customer_id);
}

function backToList() {
  customers.view = null;
  renderCustomerPane();
  renderCustomerResults();
  const current = customers.record && $("customer-results").querySelector(`[data-customer="${CSS.escape(customers.record.id)}"]`);
  (current || $("customer-q")).focus();
}

/** The right-hand pane (a page of its own on a phone): the record, the form, or what an erasure kept. */
function renderCustomerPane(values) {
  const view = $("customer-view");
  if (!view) return;
  const promptHere = view.contains(passkeyField) && !passkeyField.hidden;
  if (view.contains(passkeyField)) $("detail-alert").before(passkeyField); // out of what is replaced
  say("");
  $("customers").classList.toggle("open", Boolean(customers.view));
  if (customers.view === "record") fill(view, recordView(customers.record));
  else if (customers.view === "form") fill(view, customerForm(values || customers.form.base));
  else if (customers.view === "erased") fill(view, erasedView(customers.erased));
  else fill(view, h("p", { class: "note empty" }, t("pick_customer")));
  if (promptHere && customers.view === "form") $("customer-form-alert").before(passkeyField);
  else if (promptHere) putPasskeyAway();
}

function recordView(r) {
  const owner = session.role === "owner";
  const fact = (name, value) => (value ? [h("dt", {}, t(`label.${name}`)), h("dd", { "data-name": name }, value)] : null);
  const address = r.address && [r.address.street, [r.address.postal_code, r.address.city].filter(Boolean).join(" "), r.address.country !== "DE" ? r.address.country : ""]
    .filter(Boolean).join(", ");
  return h("article", { class: "record", id: "customer-record", "data-customer": r.id, "aria-labelledby": "customer-name" },
    h("h2", { id: "customer-name", tabindex: "-1" }, nameOf(r)),
    h("p", { class: "actions" },
      h("button", { type: "button", id: "customer-edit", onclick: () => openCustomerForm(customers.record) }, t("edit")),
      owner ? h("button", { type: "button", id: "customer-export", onclick: exportCustomer }, t("export_data")) : null,
      owner ? h("button", { type: "button", id: "customer-erase", class: "danger", onclick: askToErase }, t("erase")) : null),
    h("div", { id: "customer-record-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("dl", { class: "facts", id: "customer-facts" },
      fact("given_name", r.given_name), fact("family_name", r.family_name),
      fact("email", r.email && h("a", { href: `mailto:${r.email}` }, r.email)),
      fact("phone", r.phone && h("a", { href: `tel:${r.phone}` }, r.phone)),
      fact("company", r.company), fact("birthday", isoDay(r.birthday)), fact("address", address),
      fact("note", r.note && h("span", { class: "multiline" }, r.note)),
      fact("created_at", time(r.created_at, t.lang())), fact("updated_at", time(r.updated_at, t.lang()))),
    h("section", { "aria-labelledby": "consents-title" },
      h("h3", { id: "consents-title" }, t("consents")), ...CHANNELS.map((channel) => consentBox(r, channel))),
    ordersSection());
}

function consentBox(r, channel) {
  const { state, history } = r.consents[channel];
  const id = (suffix) => `consent-${channel}-${suffix}`;
  const who = (by) => (by?.type === "staff" ? `${by.uid} (${t(`role.${by.role}`)})` : by?.type === "import" ? t("by.import") : by?.uid || "");
  const source = (text) => (t.has(`source.${text}`) ? t(`source.${text}`) : text);
  return h("fieldset", { id: `consent-${channel}`, class: "consent", "data-state": state },
    h("legend", {}, t(`channel.${channel}`)),
    h("p", {}, t("consent_now"), " ", h("strong", { class: `consent-state ${state}`, id: id("state") }, t(`consent.${state}`))),
    history.length
      ? [h("h4", { id: id("history-title") }, t("consent_history")),
        h("ul", { class: "history", id: id("history"), "aria-labelledby": id("history-title") }, ...history.slice().reverse().map((entry) => h("li", {},
          h("span", {}, `${time(entry.at, t.lang())} · `, h("strong", {}, t(`consent.${entry.state}`)), ` · ${source(entry.source)}`,
            who(entry.by) ? ` · ${t("consent_by", { who: who(entry.by) })}` : ""),
          h("span", { class: "wording" }, `„${entry.wording}“`))))]
      : h("p", { class: "note" }, t("consent_none")),
    h("div", { class: "row" },
      h("div", {}, h("label", { for: id("source") }, t("consent_source")),
        h("select", { id: id("source"), "data-field": "source" }, ...CONSENT_SOURCES.map((s) => h("option", { value: s }, t(`source.${s}`)))))),
    h("label", { for: id("wording") }, t("consent_wording")),
    h("textarea", { id: id("wording"), "data-field": "wording", rows: 5, maxlength: 2000 }, t(`wording.${channel}`)),
    h("div", { id: id("alert"), class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { class: "actions" },
      h("button", { type: "button", id: id("granted"), onclick: () => recordConsent(channel, "granted") }, t("record_granted")),
      h("button", { type: "button", id: id("withdrawn"), onclick: () => recordConsent(channel, "withdrawn") }, t("record_withdrawn"))));
}

async function recordConsent(channel, state) {
  const box = $(`consent-${channel}`);
  const alertBox = $(`consent-${channel}-alert`);
  clearProblem(box, alertBox);
  const body = { channel, state, source: $(`consent-${channel}-source`).value, wording: $(`consent-${channel}-wording`).value.trim() };
  if (!body.wording) return showProblem(box, alertBox, new Problem(422, { title: t("wording_missing") }), t);
  const buttons = [...box.querySelectorAll("button")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    await staffCall(API.staff, customerPath(customers.record.id, "/consents"), { method: "POST", body });
    customers.record = await staffCall(API.staff, customerPath(customers.record.id)); // a new version, the history with it
    renderCustomerPane();
    say(t("consent_recorded", { channel: t(`channel.${channel}`), state: t(`consent.${state}`) }));
    $(`consent-${channel}-${state}`).focus();
  } catch (error) {
    showProblem(box, alertBox, inOurWords(error), t);
    buttons.forEach((button) => (button.disabled = false));
  }
}

function ordersSection() {
  const orders = customers.orders;
  return h("section", { "aria-labelledby": "customer-orders-title" },
    h("h3", { id: "customer-orders-title" }, t("customer_orders")),
    orders.length
      ? h("table", { id: "customer-orders" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("order_no")), h("th", { scope: "col" }, t("date")),
          h("th", { scope: "col" }, t("status")), h("th", { scope: "col", class: "num" }, t("total")))),
        h("tbody", {}, ...orders.map((order) => h("tr", { "data-order": order.id, "data-number": order.number },
          h("td", {}, h("button", { type: "button", class: "small", onclick: () => openDetail(order.id) }, `#${order.number}`)),
          h("td", {}, time(order.created_at, t.lang())), h("td", {}, t(`status.${order.status}`)),
          h("td", { class: "num" }, m(order.totals.total, order.currency))))))
      : h("p", { class: "note" }, t("no_orders")),
    customers.ordersNext ? h("p", {}, h("button", { type: "button", id: "customer-orders-more", onclick: moreOrders }, t("more_orders"))) : null);
}

async function moreOrders() {
  const id = customers.record.id;
  try {
    const page = await staffCall(API.staff, customerPath(id, `/orders?limit=${ORDERS_PAGE}&cursor=${encodeURIComponent(customers.ordersNext)}`));
    if (customers.record?.id !== id) return;
    const before = customers.orders.length;
    customers.orders = [...customers.orders, ...page.data];
    customers.ordersNext = page.has_more ? page.next_cursor : null;
    renderCustomerPane();
    $("customer-orders").querySelectorAll("tbody button")[before]?.focus();
  } catch (error) {
    showAlert($("customer-record-alert"), error, t);
  }
}

// ---- making and changing a record

function formValues(record) {
  const values = Object.fromEntries([...CUSTOMER_FIELDS, ...ADDRESS_FIELDS].map((name) => [name, ""]));
  if (!record) return { ...values, country: "DE" };
  for (const name of CUSTOMER_FIELDS) values[name] = record[name] || "";
  values.birthday = isoDay(record.birthday);
  for (const name of ADDRESS_FIELDS) values[name] = record.address?.[name] || "";
  values.country ||= "DE";
  return values;
}

function openCustomerForm(record) {
  buildCustomers();
  customers.form = { mode: record ? "edit" : "create", id: record?.id, version: record?.version, base: formValues(record) };
  customers.view = "form";
  renderCustomerPane();
  renderCustomerResults();
  $("customer-form-title").focus();
}

function customerForm(values) {
  const editing = customers.form.mode === "edit";
  const input = (name, attributes = {}) => {
    const hint = attributes.hint;
    delete attributes.hint;
    const field = attributes.field || name;
    delete attributes.field;
    return h("div", { class: "field" },
      h("label", { for: `cf-${name}` }, t(`label.${name}`)),
      h(attributes.multiline ? "textarea" : "input", {
        id: `cf-${name}`, name, "data-field": field, autocomplete: "off", "aria-describedby": hint ? `cf-${name}-hint` : null,
        ...attributes, multiline: null, value: attributes.multiline ? null : values[name],
      }, attributes.multiline ? values[name] : null),
      hint ? h("span", { class: "note hint", id: `cf-${name}-hint` }, t(hint)) : null);
  };
  return h("form", { id: "customer-form", class: "record", novalidate: true, "aria-labelledby": "customer-form-title", onsubmit: saveCustomer },
    h("h2", { id: "customer-form-title", tabindex: "-1" }, editing ? t("edit_customer", { name: nameOf(customers.record) }) : t("new_customer")),
    h("p", { class: "note" }, t("needed_hint")),
    h("div", { class: "row" }, input("given_name", { autocapitalize: "words" }), input("family_name", { autocapitalize: "words" })),
    h("div", { class: "row" },
      input("email", { type: "email", inputmode: "email", autocapitalize: "off", spellcheck: "false" }),
      input("phone", { type: "tel", inputmode: "tel", hint: "phone_hint" })),
    h("div", { class: "row" }, input("company"), input("birthday", { inputmode: "numeric", hint: "birthday_hint", maxlength: 10 })),
    input("note", { multiline: true, rows: 3, maxlength: 2000 }),
    h("fieldset", {}, h("legend", {}, t("label.address")),
      input("street", { field: "address.street", maxlength: 200 }),
      h("div", { class: "row" },
        input("postal_code", { field: "address.postal_code", inputmode: "numeric", maxlength: 20 }),
        input("city", { field: "address.city", maxlength: 100 })),
      input("country", { field: "address.country", maxlength: 2, autocapitalize: "characters", hint: "country_hint" })),
    h("div", { id: "customer-form-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "customer-save" }, t("save")),
      h("button", { type: "button", id: "customer-cancel", onclick: cancelCustomerForm }, t("cancel"))));
}

function readCustomerForm() {
  const values = {};
  for (const name of [...CUSTOMER_FIELDS, ...ADDRESS_FIELDS]) values[name] = $(`cf-${name}`).value.trim();
  values.country = values.country.toUpperCase();
  return values;
}

function cancelCustomerForm() {
  if (customers.form.mode === "edit") {
    customers.view = "record";
    renderCustomerPane();
    renderCustomerResults();
    $("customer-name").focus();
  } else {
    backToList();
  }
}

/** What to send: everything filled in for a new record; only what changed for an edit (the API
 * changes only the fields sent, a field sent empty is cleared). */
function customerBody(values, { mode, base }) {
  const body = {};
  for (const name of CUSTOMER_FIELDS) {
    if (mode === "create" ? values[name] : values[name] !== base[name]) body[name] = values[name] || null;
  }
  const hasAddress = ["street", "postal_code", "city"].some((name) => values[name]);
  const addressChanged = ADDRESS_FIELDS.some((name) => values[name] !== base[name]);
  if (mode === "create" ? hasAddress : addressChanged) {
    body.address = hasAddress ? {
      street: values.street || null, postal_code: values.postal_code || null, city: values.city || null, country: values.country || "DE",
    } : null;
  }
  return body;
}

async function saveCustomer(event) {
  event.preventDefault();
  const form = $("customer-form");
  clearProblem(form, $("customer-form-alert"));
  const values = readCustomerForm();
  const { mode, id, version } = customers.form;
  const body = customerBody(values, customers.form);
  if (mode === "edit" && !Object.keys(body).length) {
    customers.view = "record";
    renderCustomerPane();
    say(t("nothing_changed"));
    return $("customer-name").focus();
  }
  const headers = passkeyHeaders(form);
  if (mode === "edit") headers["If-Match"] = String(version);
  $("customer-save").disabled = true;
  try {
    const record = await staffCall(API.staff, mode === "edit" ? customerPath(id) : storePath("/customers"), {
      method: mode === "edit" ? "PATCH" : "POST", body, headers,
    });
    putPasskeyAway();
    customers.results = mode === "edit" ? customers.results : [record, ...customers.results];
    customers.searched ||= mode === "create";
    await openCustomer(record.id, t(mode === "edit" ? "customer_saved" : "customer_created"));
  } catch (error) {
    if (error instanceof Problem && error.code === "version_mismatch") await reloadChanged(values);
    else if (error instanceof Problem && error.code === "customer_exists") await offerExisting(values);
    else showProblemOrAskForPasskey(form, $("customer-form-alert"), inOurWords(error));
  } finally {
    if ($("customer-save")) $("customer-save").disabled = false;
  }
}

/** 412: someone changed the record meanwhile. It is read again; what this person changed stays in
 * the form over it, and the next save is against the new version. */
async function reloadChanged(values) {
  const fresh = await staffCall(API.staff, customerPath(customers.form.id)).catch((error) => error);
  if (!(fresh?.id)) return showProblem($("customer-form"), $("customer-form-alert"), fresh, t);
  const before = customers.form.base;
  const now = formValues(fresh);
  const merged = Object.fromEntries(Object.keys(now).map((name) => [name, values[name] !== before[name] ? values[name] : now[name]]));
  const changed = Object.keys(now).filter((name) => now[name] !== before[name]).map((name) => t(`label.${name}`));
  customers.record = fresh;
  customers.form = { ...customers.form, version: fresh.version, base: now };
  renderCustomerPane(merged);
  const detail = [t("changed_detail"), changed.length ? t("changed_fields", { fields: changed.join(", ") }) : ""].join(" ");
  showProblem($("customer-form"), $("customer-form-alert"), new Problem(412, { title: t("changed_title"), detail }), t);
}

/** 409: the e-mail or the phone is another record's; that record is offered. */
async function offerExisting(values) {
  let existing = null;
  for (const q of [values.email, values.phone].filter(Boolean)) {
    const page = await staffCall(API.staff, storePath(`/customers?${new URLSearchParams({ q, limit: "2" })}`)).catch(() => null);
    existing = page?.data.find((c) => c.id !== customers.form.id);
    if (existing) break;
  }
  const alertBox = $("customer-form-alert");
  showProblem($("customer-form"), alertBox, new Problem(409, { title: t("exists_title"), detail: t("exists_detail") }), t);
  if (existing) {
    alertBox.append(" ", h("button", { type: "button", id: "open-existing", class: "small", onclick: () => openCustomer(existing.id) },
      t("open_existing", { name: nameOf(existing) })));
  }
}

// ---- the owner: everything held about a person (Art. 15/20), erasure (Art. 17)

async function exportCustomer() {
  const record = $("customer-record");
  const alertBox = $("customer-record-alert");
  clearProblem(record, alertBox);
  const id = customers.record.id;
  try {
    const data = await staffCall(API.staff, customerPath(id, "/export"), { headers: passkeyHeaders(record) });
    putPasskeyAway();
    const file = `kunde-${id}.json`;
    const link = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })), download: file, hidden: true });
    record.append(link);
    link.click();
    link.remove();
    say(t("exported", { file }));
  } catch (error) {
    showProblemOrAskForPasskey(record, alertBox, error);
  }
}

function askToErase() {
  clearProblem($("erase-form"), $("erase-alert"));
  if ($("erase-form").contains(passkeyField)) putPasskeyAway();
  $("erase-title").textContent = t("erase_title", { name: nameOf(customers.record) });
  $("erase-dialog").showModal();
}

async function eraseCustomer() {
  const form = $("erase-form");
  const alertBox = $("erase-alert");
  clearProblem(form, alertBox);
  const record = customers.record;
  $("erase-confirm").disabled = true;
  try {
    const result = await staffCall(API.staff, customerPath(record.id), { method: "DELETE", headers: passkeyHeaders(form) });
    putPasskeyAway();
    $("erase-dialog").close();
    const numbers = Object.fromEntries(customers.orders.map((order) => [order.id, order.number]));
    customers.erased = { name: nameOf(record), retained: result.retained, numbers };
    customers.results = customers.results.filter((c) => c.id !== record.id);
    customers.record = null;
    customers.view = "erased";
    renderCustomerPane();
    renderCustomerResults();
    $("erased-title").focus();
  } catch (error) {
    showProblemOrAskForPasskey(form, alertBox, error);
  } finally {
    $("erase-confirm").disabled = false;
  }
}

function erasedView(erased) {
  const reason = (text) => (/§ 14 \(4\) UStG/.test(text) ? t("kept.invoice_name") : text);
  return h("article", { class: "record", id: "customer-erased", "aria-labelledby": "erased-title" },
    h("h2", { id: "erased-title", tabindex: "-1" }, t("erased_title", { name: erased.name })),
    erased.retained.length
      ? [h("p", {}, t("erased_kept")),
        h("ul", { id: "erased-kept" }, ...erased.retained.map((kept) => h("li", { "data-order": kept.order_id },
          t("kept_entry", { order: erased.numbers[kept.order_id] ? `#${erased.numbers[kept.order_id]}` : kept.order_id, until: isoDay(kept.until) }),
          h("div", { class: "note" }, reason(kept.reason)))))]
      : h("p", { id: "erased-kept" }, t("erased_nothing_kept")));
}

// ---- importing a customer list (owner, supervisor): a dry run first, then the real run

function importForm() {
  return h("form", { id: "customer-import", class: "import", novalidate: true, "aria-labelledby": "import-title", onsubmit: runImport },
    h("h2", { id: "import-title", "data-t": "import_title" }),
    h("p", { class: "note", id: "import-hint", "data-t": "import_hint" }),
    h("label", { for: "import-file", "data-t": "import_file" }),
    h("input", { id: "import-file", type: "file", accept: ".csv,text/csv", "data-field": "body", "aria-describedby": "import-hint", onchange: importFileChosen }),
    h("div", { id: "import-alert", class: "alert", role: "alert", tabindex: "-1", hidden: true }),
    h("p", { class: "actions" },
      h("button", { type: "submit", id: "import-dry", value: "dry", "data-t": "dry_run" }),
      h("button", { type: "submit", id: "import-run", value: "run", class: "primary", hidden: true, "data-t": "import_now" })),
    h("p", { id: "import-status", role: "status" }),
    h("div", { id: "import-details" }));
}

function forgetImport() {
  clearTimeout(imports.timer);
  if (imports.errorsFile) URL.revokeObjectURL(imports.errorsFile.url);
  Object.assign(imports, { file: null, dry: null, dryAttempt: new Attempt(), runAttempt: new Attempt(), job: null, errorsFile: null, timer: null });
}

function importFileChosen() {
  forgetImport();
  imports.file = $("import-file").files[0] || null;
  clearProblem($("customer-import"), $("import-alert"));
  renderImport();
}

/** POSTs the file as it is (call() sends JSON), with the same retries, problems and sign-out as staffCall. */
async function sendFile(path, file, { idempotencyKey, headers = {} }) {
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= FILE_RETRY_MS.length;
    const init = {
      method: "POST", body: file, signal: AbortSignal.timeout(FILE_TIMEOUT_MS),
      headers: {
        Accept: "application/json, application/problem+json", "Content-Type": "text/csv", "Idempotency-Key": idempotencyKey,
        ...headers, Authorization: `Bearer ${await idToken()}`,
      },
    };
    let response;
    try {
      response = await fetch(API.staff + path, init);
    } catch (error) {
      if (last) throw new Unreachable(String(error));
      await new Promise((resolve) => setTimeout(resolve, FILE_RETRY_MS[attempt]));
      continue;
    }
    if (response.ok) return response.json();
    const problem = new Problem(response.status, await response.json().catch(() => ({})));
    if (problem.code === "unauthenticated") signOut(t("session_expired"));
    if (last || !(response.status === 503 || problem.code === "idempotency_in_progress")) throw problem;
    await new Promise((resolve) => setTimeout(resolve, FILE_RETRY_MS[attempt]));
  }
}

async function runImport(event) {
  event.preventDefault();
  const form = $("customer-import");
  const alertBox = $("import-alert");
  clearProblem(form, alertBox);
  if (!imports.file) return showProblem(form, alertBox, new Problem(422, { title: t("import_choose") }), t);
  const dry = event.submitter?.value !== "run";
  const buttons = [$("import-dry"), $("import-run")];
  buttons.forEach((button) => (button.disabled = true));
  try {
    const attempt = dry ? imports.dryAttempt : imports.runAttempt;
    const answer = await attempt.run((key) => sendFile(storePath(`/customer-imports?dry_run=${dry}`), imports.file, {
      idempotencyKey: key, headers: passkeyHeaders(form),
    }));
    if (dry) {
      imports.dryAttempt = new Attempt(); // another dry run is another question
      imports.dry = answer; // a passkey typed for it stays for the real run
    } else {
      putPasskeyAway();
      imports.job = { id: answer.import_id, status: "running", processed: 0, rows: imports.dry?.rows ?? null };
      followImport();
    }
    renderImport();
  } catch (error) {
    showProblemOrAskForPasskey(form, alertBox, inOurWords(error));
  } finally {
    buttons.forEach((button) => (button.disabled = false));
  }
}

async function followImport() {
  clearTimeout(imports.timer);
  const job = imports.job;
  if (!job || !session) return;
  try {
    const now = await staffCall(API.staff, storePath(`/customer-imports/${encodeURIComponent(job.id)}`));
    if (now.status === "done" && now.errors) {
      const response = await staffCall(API.staff, storePath(`/customer-imports/${encodeURIComponent(job.id)}/errors.csv`), { as: "response" });
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || `${job.id}-errors.csv`;
      if (imports.job === job) imports.errorsFile = { url: URL.createObjectURL(await response.blob()), name };
    }
    if (imports.job !== job) return; // another file was chosen meanwhile
    imports.job = now;
  } catch (error) {
    if (!session || imports.job !== job) return;
    showAlert($("import-alert"), error, t);
    if (error instanceof Problem && error.status < 500) return; // asking again would not help
  }
  renderImport();
  if (imports.job.status === "running") imports.timer = setTimeout(followImport, IMPORT_POLL_MS);
}

function renderImport() {
  if (!$("customer-import")) return;
  const { dry, job } = imports;
  const status = $("import-status");
  const count = (result) => ({ ...result, errors: typeof result.errors === "number" ? result.errors : new Set(result.errors.map((e) => e.line)).size });
  $("import-run").hidden = !dry || Boolean(job);
  if (job) {
    const rows = job.rows ?? dry?.rows;
    status.className = job.status === "done" ? "ok" : job.status === "failed" ? "notice" : "";
    status.textContent = job.status === "done" ? t("import_done", count(job))
      : job.status === "failed" ? t("import_failed") : t("import_running", { processed: job.processed, rows: rows ?? "?" });
    fill($("import-details"),
      job.status === "running"
        ? h("progress", { id: "import-progress", max: rows || 1, value: Math.min(job.processed, rows || 1), "aria-label": t("import_progress") }) : null,
      imports.errorsFile ? h("p", {}, h("a", { id: "import-errors-link", href: imports.errorsFile.url, download: imports.errorsFile.name }, t("import_errors_csv"))) : null);
  } else if (dry) {
    status.className = "";
    status.textContent = t("dry_result", count(dry));
    const shown = dry.errors.slice(0, IMPORT_ERRORS_SHOWN);
    fill($("import-details"), shown.length ? [
      h("table", { id: "import-errors" },
        h("caption", {}, t("import_first_errors")),
        h("thead", {}, h("tr", {}, ...["line", "field", "problem"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, ...shown.map((e) => h("tr", {}, h("td", { class: "num" }, String(e.line)),
          h("td", {}, e.field ? (t.has(`label.${e.field}`) ? t(`label.${e.field}`) : e.field) : "–"), h("td", {}, said(e.message)))))),
      dry.errors.length > shown.length ? h("p", { class: "note" }, t("import_more_errors", { count: dry.errors.length - shown.length })) : null,
    ] : null);
  } else {
    status.className = "";
    status.textContent = "";
    fill($("import-details"));
  }
}

// ---- start ---------------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of TABS) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-panel`).hidden = tab !== name;
  }
  if (name === "board") startBoard();
  if (name === "closing") listClosings().catch((error) => showProblem($("close-form"), $("close-alert"), error, t));
  if (name === "stripe") loadStripe();
  if (name === "customers") buildCustomers();
  if (name === "catalog") openCatalog();
  if (name === "till") openTill();
  else leaveTill();
}

/** Shows each member of staff what their role may do (the API decides; this spares them the 403s). */
function showWhatTheRoleMay() {
  for (const el of document.querySelectorAll("[data-roles]")) el.hidden = !el.dataset.roles.split(" ").includes(session.role);
}

/** Overdue licence invoices: a notice for whoever can pay or forward them; nothing else changes. */
async function loadLicenceNotice() {
  overdue = [];
  if (session && BILLING_ROLES.includes(session.role)) {
    try {
      const billing = await staffCall(API.staff, storePath("/billing"));
      overdue = billing.invoices.filter((invoice) => invoice.status === "overdue");
    } catch {
      // a store the platform does not bill, or billing unreachable: the board works as ever
    }
  }
  renderLicenceNotice();
}

function renderLicenceNotice() {
  const notice = $("licence-overdue");
  notice.hidden = overdue.length === 0;
  if (notice.hidden) return;
  const amount = m(overdue.reduce((sum, invoice) => sum + invoice.gross, 0));
  const portal = `portal?${new URLSearchParams({ store: session.store })}`;
  fill(notice, t("licence_overdue", { amount }), " ", h("a", { href: portal }, t("portal")), ".");
}

function showWorkspace() {
  showWhatTheRoleMay();
  loadLicenceNotice();
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
  if (session) setLive(board.state);
  if (currentOrder && $("detail").open) renderDetail();
  renderStripe();
  if (session) renderLicenceNotice();
  if ($("customers-panel").firstChild) {
    renderCustomerResults();
    renderCustomerPane(customers.view === "form" ? readCustomerForm() : undefined);
    renderImport();
    if ($("erase-dialog").open) $("erase-title").textContent = t("erase_title", { name: nameOf(customers.record) });
  }
  if (stripeBack) $("stripe-back").textContent = t(stripeBack === "return" ? "stripe_returned" : "stripe_refresh");
  relabelTill();
  relabelCatalog();
}

function start() {
  connectTill({ t, staffCall, storePath, inOurWords, role: () => session.role });
  connectCatalog({ t, staffCall, storePath, inOurWords, role: () => session.role });
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
  $("erase-form").addEventListener("submit", (event) => { event.preventDefault(); eraseCustomer(); });
  $("erase-cancel").addEventListener("click", () => $("erase-dialog").close());
  $("erase-dialog").addEventListener("close", () => $("erase-form").contains(passkeyField) && putPasskeyAway());
  window.addEventListener("pageshow", () => ($("stripe-setup").disabled = false)); // back from Stripe by the back button
  $("export-from").value = $("export-to").value = new Date().toLocaleDateString("sv"); // today, YYYY-MM-DD
  if (session) showWorkspace();
  else $("sign-in").hidden = false;
}

start();
