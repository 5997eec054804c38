"""The merchant portal (`/portal`) at phone width, as a merchant uses it: a store opened by the
platform, its owner's invitation e-mail followed to set a password, the month's licence invoice
shown, downloaded and paid by card on the Stripe stand-in's checkout, a card saved for the next
months, the store's business details edited, and the team (invite, revoke, change a role, remove;
never the last owner). Finance sees the invoices and reads the business details only. Each state
is checked with axe-core and photographed (artifacts/screenshots/portal-*).

`web_stack` runs the Auth emulator (the portal signs in there, as it signs in with Firebase Auth in
production), the SMTP sink behind `GET /v1/dev/mail`, and the Stripe stand-in. The pages with axe-core
are opened as test_accessibility.py opens them (Content-Security-Policy bypassed to inject it); the
sign-in problems are tried on a page under the policy.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from test_accessibility import Axe, open_page
from test_web_pages import euro

from auth_emulator import AuthEmulatorApi
from conftest import PHONE, screenshot

PASSWORD = "Kaffee-und-Kuchen-2026"
PROFILE_LABELS = ("Name des Geschäfts", "Straße und Hausnummer", "PLZ", "Ort", "Steuernummer", "USt-IdNr.")
GERMAN_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


# ---- the platform, the mail and the Auth emulator, as the test talks to them ----------------------


def platform_admin_token() -> str:
    from tresen.adapters.identity import unsigned_dev_token

    return unsigned_dev_token(uid="platform-admin", stores={}, platform="admin")


def emulator_of(stack) -> AuthEmulatorApi:
    """The stack's Auth emulator, where the API says the pages find it."""
    found = requests.get(f"{stack.url}/v1/dev/firebase", timeout=10).json()
    return AuthEmulatorApi(urlsplit(found["auth_url"]).netloc)


def invitation_link(stack, email: str, timeout: float = 10) -> str:
    """The link in the newest invitation e-mail to `email` (the sink lists the newest first). The
    outbox sends it in the background, after the request that wrote it: it is waited for."""
    deadline = time.monotonic() + timeout
    while True:
        mails = requests.get(f"{stack.url}/v1/dev/mail", timeout=10).json()["data"]
        texts = [mail["text"] for mail in mails if mail["to"] == email and mail["subject"].startswith("Einladung")]
        if texts or time.monotonic() > deadline:
            assert texts, f"no invitation to {email} within {timeout:.0f} s"
            [link] = re.findall(r"https?://\S+/portal\?\S+", texts[0])
            return link
        time.sleep(0.1)


def joined(stack, email: str) -> tuple[str, str]:
    """What the invited person does outside the page under test: sets the password with the link's
    codes, confirms the address, signs in and accepts. Their (uid, ID token)."""
    codes = {name: values[0] for name, values in parse_qs(urlsplit(invitation_link(stack, email)).query).items()}
    emulator = emulator_of(stack)
    emulator.reset_password(codes["setup"], PASSWORD)
    if "verify" in codes:
        emulator.apply_code(codes["verify"])
    signed_in = emulator.signed_in(email, PASSWORD)
    accepted = requests.post(
        f"{stack.url}/v1/invitations/accept",
        json={"token": codes["invitation"]},
        headers={"Authorization": f"Bearer {signed_in['idToken']}"},
        timeout=10,
    )
    assert accepted.status_code == 200, accepted.text
    return signed_in["localId"], signed_in["idToken"]


def as_person(stack, token: str, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method, f"{stack.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15, **kwargs
    )


class Merchant:
    """A store the platform opened for this module, its owner, and what the tests made of it."""

    def __init__(self, stack):
        self.stack = stack
        self.store = f"portal-{uuid.uuid4().hex[:8]}"
        self.owner_email = f"owner-{self.store}@example.com"
        opened = requests.post(
            f"{stack.url}/v1/platform/stores",
            json={
                "store_id": self.store,
                "name": "Café Portal",
                "address": {"street": "Hafenstraße 3", "postal_code": "20359", "city": "Hamburg"},
                "owner_email": self.owner_email,
                "plan": "enterprise",
            },
            headers={"Authorization": f"Bearer {platform_admin_token()}"},
            timeout=15,
        )
        assert opened.status_code == 201, opened.text
        self.link = invitation_link(stack, self.owner_email)
        self.joined = False  # the owner set the password and accepted (in the first test, or by `owner_token`)

    def owner_token(self) -> str:
        """The owner's ID token from the emulator; the owner joins here if the first test did not run."""
        if not self.joined:
            joined(self.stack, self.owner_email)
            self.joined = True
        return emulator_of(self.stack).sign_in(self.owner_email, PASSWORD)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return as_person(self.stack, self.owner_token(), method, f"/v1/stores/{self.store}{path}", **kwargs)

    def billing(self) -> dict:
        answer = self.api("GET", "/billing")
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def merchant(web_stack) -> Merchant:
    return Merchant(web_stack)


@pytest.fixture(scope="module")
def invoice(web_stack, merchant) -> dict:
    """The store's first licence invoice: the monthly run of the first of next month bills this one."""
    today = date.today()
    first_of_next = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    run = requests.post(
        f"{web_stack.url}/v1/jobs/licence-invoices", params={"on": first_of_next.isoformat()}, timeout=60
    )
    assert run.status_code == 200, run.text
    assert run.json()["period"] == f"{today:%Y-%m}"
    [issued] = merchant.billing()["invoices"]
    assert issued["number"] in run.json()["issued"]
    return issued


@pytest.fixture
def phone_page(playwright_browser):
    page, faults = open_page(playwright_browser, PHONE)
    yield page
    page.context.close()
    assert faults == []


@pytest.fixture
def audit(axe) -> Axe:
    return Axe(axe)


# ---- the page, as a person uses it ---------------------------------------------------------------


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    form = page.locator("#sign-in")
    form.get_by_label("E-Mail").fill(email)
    form.get_by_label("Passwort").fill(password)
    form.get_by_role("button", name="Anmelden").click()


def portal_of(page, merchant: Merchant) -> None:
    """Waits for the store's portal with its invoices read."""
    page.locator("#portal-title", has_text=merchant.store).wait_for()
    page.locator("#invoices-section:not([hidden]) :is(#no-invoices:not([hidden]), .invoice)").first.wait_for()


def signed_in_owner(page, merchant: Merchant) -> None:
    merchant.owner_token()
    page.goto(f"{merchant.stack.url}/portal")
    sign_in(page, merchant.owner_email)
    portal_of(page, merchant)


def invoice_item(page, invoice: dict):
    return page.locator(f".invoice[data-invoice='{invoice['id']}']")


def facts(item) -> dict[str, str]:
    names = item.locator("dt").all_inner_texts()
    return dict(zip(names, item.locator("dd").all_inner_texts(), strict=True))


def shown(invoice: dict, status: str) -> dict[str, str]:
    """An invoice's facts as the page says them in German (without when it was paid)."""
    year, month = map(int, invoice["period"].split("-"))
    return {
        "Monat": f"{GERMAN_MONTHS[month - 1]} {year}",
        "Betrag": euro(invoice["gross"]),
        "Fällig am": f"{date.fromisoformat(invoice['due_date']):%d.%m.%Y}",
        "Status": status,
    }


# ---- the tests -----------------------------------------------------------------------------------


def test_the_invited_owner_sets_a_password_and_lands_in_the_stores_empty_portal(web_stack, merchant, phone_page, audit):
    page = phone_page
    query = parse_qs(urlsplit(merchant.link).query)
    assert sorted(query) == ["invitation", "setup", "verify"]
    page.goto(merchant.link)
    form = page.locator("#set-password")
    form.wait_for()
    assert page.locator("#sign-in").is_hidden()
    audit.check(page, "set the password")
    screenshot(page, "portal-set-password-phone")

    page.get_by_label("Neues Passwort").fill("kurz")
    page.get_by_label("Passwort wiederholen").fill("kurz")
    page.get_by_role("button", name="Passwort speichern und anmelden").click()
    alert = page.locator("#set-password-alert")
    alert.wait_for()
    assert alert.inner_text() == "Das Passwort braucht mindestens 8 Zeichen."
    assert page.evaluate("document.activeElement.id") == "set-password-alert"
    assert page.get_by_label("Neues Passwort").get_attribute("aria-invalid") == "true"
    audit.check(page, "set the password: too short")
    screenshot(page, "portal-set-password-too-short-phone")

    page.get_by_label("Neues Passwort").fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    page.get_by_role("button", name="Passwort speichern und anmelden").click()
    portal_of(page, merchant)
    merchant.joined = True
    assert page.url == f"{web_stack.url}/portal?store={merchant.store}"  # the spent link is gone from the address
    assert page.locator("#portal-title").inner_text() == f"Café Portal ({merchant.store})"
    assert page.locator("#who").inner_text() == f"· {merchant.owner_email}"
    assert page.locator("#no-invoices").inner_text() == "Noch keine Rechnungen."
    assert page.locator("#open-amount").inner_text() == "Nichts offen."
    assert (
        page.locator("#card-on-file").inner_text() == "Noch keine Karte hinterlegt: Rechnungen werden einzeln bezahlt."
    )
    assert page.locator("#mandate-text").inner_text() == merchant.billing()["mandate"]["text"]
    assert [m["email"] for m in merchant.api("GET", "/members").json()["data"]] == [merchant.owner_email]
    assert page.locator("#members .email").all_inner_texts() == [merchant.owner_email]
    audit.check(page, "the empty portal")
    screenshot(page, "portal-empty-phone")

    page.get_by_role("button", name="English").click()
    assert page.locator("#no-invoices").inner_text() == "No invoices yet."
    audit.check(page, "the empty portal, in English")
    page.get_by_role("button", name="Deutsch").click()

    page.get_by_role("button", name="Abmelden").click()
    page.locator("#sign-in").wait_for()
    assert page.evaluate("sessionStorage.getItem('tresen.portal')") is None
    audit.check(page, "sign-in")
    screenshot(page, "portal-sign-in-phone")
    audit.assert_none()


def test_the_months_invoice_is_listed_open_and_its_pdf_is_the_one_the_api_hands_out(
    web_stack, merchant, invoice, phone_page, audit
):
    page = phone_page
    signed_in_owner(page, merchant)
    item = invoice_item(page, invoice)
    assert re.fullmatch(r"TRESEN-\d{4}-\d{6}", invoice["number"])
    assert item.locator("h3").inner_text() == f"Rechnung {invoice['number']}"
    assert facts(item) == shown(invoice, "offen")
    assert page.locator("#open-amount").inner_text() == f"Offen: {euro(invoice['gross'])}"
    assert merchant.billing()["open_amount"] == invoice["gross"]
    assert item.get_by_role("button").all_inner_texts() == ["PDF", "Mit Karte bezahlen", "Mit PayPal bezahlen"]
    audit.check(page, "an open invoice")
    screenshot(page, "portal-invoice-open-phone")

    with page.expect_download() as downloading:
        item.get_by_role("button", name="PDF").click()
    download = downloading.value
    assert download.suggested_filename == f"{invoice['number']}.pdf"
    saved = Path(download.path()).read_bytes()
    issued = merchant.api("GET", f"/billing/invoices/{invoice['id']}.pdf")
    assert issued.headers["Content-Type"] == "application/pdf"
    assert saved[:5] == b"%PDF-" and saved == issued.content
    audit.assert_none()


def test_the_owner_pays_the_invoice_by_card_on_stripes_checkout_and_comes_back_to_it_paid(
    web_stack, merchant, invoice, phone_page, audit
):
    page = phone_page
    signed_in_owner(page, merchant)
    invoice_item(page, invoice).get_by_role("button", name="Mit Karte bezahlen").click()
    page.wait_for_url(re.compile(rf"^{re.escape(web_stack.stripe_url)}/_standin/checkout/cs_test_\w+$"))
    page.get_by_label("Test outcome").select_option("paid")
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(f"{web_stack.url}/portal?store={merchant.store}")  # via ?invoice=…&paid=card, then dropped
    note = page.locator("#payment-note")
    note.wait_for()
    item = invoice_item(page, invoice)
    assert item.get_attribute("aria-current") == "true"  # the invoice it came back from
    page.locator(f".invoice[data-invoice='{invoice['id']}'][data-status=paid]").wait_for()
    assert note.inner_text() == "Zahlung eingegangen: die Rechnung ist bezahlt."
    paid = next(i for i in merchant.billing()["invoices"] if i["id"] == invoice["id"])
    assert paid["status"] == "paid"
    assert facts(item) == shown(invoice, "bezahlt") | {
        "Bezahlt am": f"{date.fromisoformat(paid['paid_at'][:10]):%d.%m.%Y}"
    }
    assert item.get_by_role("button").all_inner_texts() == ["PDF"]  # nothing left to pay
    assert page.locator("#open-amount").inner_text() == "Nichts offen."
    audit.check(page, "a paid invoice, back from the checkout")
    screenshot(page, "portal-invoice-paid-phone")

    page.reload()  # said once
    portal_of(page, merchant)
    assert page.locator("#payment-note").is_hidden()
    audit.assert_none()


def test_the_owner_agrees_to_the_mandate_and_saves_a_card_on_stripes_setup_page(web_stack, merchant, phone_page, audit):
    page = phone_page
    signed_in_owner(page, merchant)
    page.get_by_role("button", name="Karte speichern").click()  # without agreeing
    alert = page.locator("#card-alert")
    alert.wait_for()
    assert alert.inner_text() == "Bitte stimmen Sie zuerst der Einzugsermächtigung zu."
    assert page.evaluate("document.activeElement.id") == "card-alert"
    assert page.get_by_label("Ich stimme zu").get_attribute("aria-invalid") == "true"
    audit.check(page, "saving a card without agreeing")
    screenshot(page, "portal-card-mandate-missing-phone")

    page.get_by_label("Ich stimme zu").check()
    page.get_by_role("button", name="Karte speichern").click()
    page.wait_for_url(re.compile(rf"^{re.escape(web_stack.stripe_url)}/_standin/checkout/cs_test_\w+$"))
    assert page.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    page.get_by_role("button", name="Save card").click()

    page.wait_for_url(f"{web_stack.url}/portal?store={merchant.store}")  # via ?card=saved, then dropped
    page.locator("#card-on-file", has_text="••••").wait_for()
    assert page.locator("#card-on-file").inner_text() == "visa •••• 4242, gültig bis 12/34"
    assert page.locator("#card-note").inner_text() == "Karte gespeichert."
    assert merchant.billing()["card_on_file"] == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}
    audit.check(page, "a card saved")
    screenshot(page, "portal-card-saved-phone")
    audit.assert_none()


def test_the_owner_edits_the_address_and_tax_number_and_finds_them_saved_after_a_reload(
    web_stack, merchant, phone_page, audit
):
    page = phone_page
    signed_in_owner(page, merchant)
    section = page.locator("#profile-section")
    section.get_by_label("Straße und Hausnummer").wait_for()
    page.wait_for_function("document.getElementById('profile-name').value !== ''")
    assert [section.get_by_label(label, exact=True).input_value() for label in PROFILE_LABELS] == [
        "Café Portal",
        "Hafenstraße 3",
        "20359",
        "Hamburg",
        "",
        "",
    ]
    assert section.locator("#profile-facts").is_hidden()  # finance's read-only view

    section.get_by_label("PLZ").fill("2045")
    section.get_by_role("button", name="Speichern").click()
    alert = page.locator("#profile-alert")
    alert.wait_for()
    assert alert.inner_text() == "Bitte die markierten Angaben prüfen."
    assert section.locator(".field-error").all_inner_texts() == ["Bitte eine fünfstellige PLZ angeben."]
    assert section.get_by_label("PLZ").get_attribute("aria-invalid") == "true"
    audit.check(page, "business details: a postal code of four digits")
    screenshot(page, "portal-profile-invalid-phone")

    section.get_by_label("Straße und Hausnummer").fill("Große Elbstraße 145")
    section.get_by_label("PLZ").fill("22767")
    section.get_by_label("Steuernummer").fill("43/123/45678")
    section.get_by_label("USt-IdNr.").fill("de 811 907 980")
    section.get_by_role("button", name="Speichern").click()
    note = page.locator("#profile-note")
    note.wait_for()
    assert note.inner_text() == "Gespeichert."
    assert alert.is_hidden() and section.locator(".field-error").count() == 0
    audit.check(page, "business details saved")
    screenshot(page, "portal-profile-saved-phone")

    page.reload()
    portal_of(page, merchant)
    page.wait_for_function("document.getElementById('profile-name').value !== ''")
    assert [section.get_by_label(label, exact=True).input_value() for label in PROFILE_LABELS] == [
        "Café Portal",
        "Große Elbstraße 145",
        "22767",
        "Hamburg",
        "43/123/45678",
        "DE811907980",
    ]
    assert note.is_hidden()
    assert merchant.api("GET", "/profile").json() == {
        "name": "Café Portal",
        "address": {"street": "Große Elbstraße 145", "postal_code": "22767", "city": "Hamburg"},
        "tax_number": "43/123/45678",
        "vat_id": "DE811907980",
    }
    audit.assert_none()


def test_the_owner_invites_and_revokes_changes_a_role_removes_a_member_and_keeps_an_owner(
    web_stack, merchant, phone_page, audit
):
    page = phone_page
    signed_in_owner(page, merchant)
    invited = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    page.locator("#invite-email").fill(invited)
    page.locator("#invite-role").select_option("staff")
    page.get_by_role("button", name="Einladung senden").click()
    pending = page.locator("#invitations li", has_text=invited)
    pending.wait_for()
    assert page.locator("#team-note").inner_text() == f"Einladung an {invited} gesendet."
    assert pending.locator(".note").inner_text().startswith("Personal · gültig bis ")
    assert invitation_link(web_stack, invited).startswith(f"{web_stack.url}/portal?invitation=")
    audit.check(page, "team with a pending invitation")
    screenshot(page, "portal-team-invited-phone")

    page.locator("#invite-email").fill(invited)  # the same address again: it is pending here
    page.locator("#invite-role").select_option("finance")
    page.get_by_role("button", name="Einladung senden").click()
    page.locator("#invitations li", has_text=invited).locator(".note", has_text="Buchhaltung").wait_for()
    assert page.locator("#invitations li", has_text=invited).count() == 1  # the new one replaced the first

    pending.get_by_role("button", name=f"Zurückziehen: {invited}").click()
    page.locator("#team-note", has_text=f"Einladung an {invited} zurückgezogen.").wait_for()
    assert page.locator("#invitations li").count() == 0
    assert page.locator("#no-invitations").inner_text() == "Keine offenen Einladungen."
    statuses = {
        i["role"]: i["status"] for i in merchant.api("GET", "/invitations").json()["data"] if i["email"] == invited
    }
    assert statuses == {"staff": "revoked", "finance": "revoked"}

    member_email = f"shift-{uuid.uuid4().hex[:8]}@example.com"
    assert merchant.api("POST", "/invitations", json={"email": member_email, "role": "staff"}).status_code == 201
    member_uid, _ = joined(web_stack, member_email)
    page.reload()
    row = page.locator(f"#members li[data-member='{member_uid}']")
    row.wait_for()
    row.get_by_label(f"Rolle von {member_email}").select_option("supervisor")
    page.locator("#team-note", has_text=f"{member_email} ist jetzt Schichtleitung.").wait_for()
    roles = {m["email"]: m["role"] for m in merchant.api("GET", "/members").json()["data"]}
    assert roles == {merchant.owner_email: "owner", member_email: "supervisor"}
    audit.check(page, "team with two members")
    screenshot(page, "portal-team-members-phone")

    me = page.locator("#members li", has_text=merchant.owner_email)
    me.get_by_label(f"Rolle von {merchant.owner_email}").select_option("staff")  # the only owner
    alert = page.locator("#team-alert")
    alert.wait_for()
    assert alert.inner_text() == (
        "Ein Geschäft braucht mindestens einen Inhaber: bitte erst eine andere Person zum Inhaber machen."
    )
    assert page.evaluate("document.activeElement.id") == "team-alert"
    assert me.get_by_label(f"Rolle von {merchant.owner_email}").input_value() == "owner"  # as it still is
    audit.check(page, "team: the last owner kept")
    screenshot(page, "portal-team-last-owner-phone")

    row.get_by_role("button", name=f"Entfernen: {member_email}").click()
    dialog = page.locator("#remove-dialog[open]")
    dialog.wait_for()
    assert page.locator("#remove-title").inner_text() == f"{member_email} aus dem Team entfernen?"
    audit.check(page, "removing a member")
    screenshot(page, "portal-team-remove-phone")
    dialog.get_by_role("button", name="Entfernen", exact=True).click()
    page.locator("#team-note", has_text=f"{member_email} gehört nicht mehr zum Team.").wait_for()
    assert page.locator("#remove-dialog").get_attribute("open") is None
    assert page.locator("#members .email").all_inner_texts() == [merchant.owner_email]
    assert [m["email"] for m in merchant.api("GET", "/members").json()["data"]] == [merchant.owner_email]
    audit.assert_none()


def test_finance_sees_the_invoices_and_their_pdfs_but_pays_nothing_and_sees_no_card_or_team(
    web_stack, merchant, invoice, phone_page, audit
):
    page = phone_page
    finance = f"finance-{uuid.uuid4().hex[:8]}@example.com"
    assert merchant.api("POST", "/invitations", json={"email": finance, "role": "finance"}).status_code == 201
    _, token = joined(web_stack, finance)
    assert as_person(web_stack, token, "GET", "/v1/me").json()["stores"] == {merchant.store: "finance"}
    page.goto(f"{web_stack.url}/portal")
    sign_in(page, finance)
    portal_of(page, merchant)
    item = invoice_item(page, invoice)
    assert item.locator("h3").inner_text() == f"Rechnung {invoice['number']}"
    assert item.get_by_role("button").all_inner_texts() == ["PDF"]
    assert page.locator("#card-section").is_hidden() and page.locator("#team-section").is_hidden()
    page.locator("#profile-facts dd").first.wait_for()
    stored = merchant.api("GET", "/profile").json()  # as the owner's test may have left it
    address = stored["address"]
    assert facts(page.locator("#profile-facts")) == {
        "Name des Geschäfts": stored["name"],
        "Anschrift": f"{address['street']}\n{address['postal_code']} {address['city']}",
        "Steuernummer": stored["tax_number"] or "nicht angegeben",
        "USt-IdNr.": stored["vat_id"] or "nicht angegeben",
    }
    assert page.locator("#profile-form").is_hidden()  # read-only
    audit.check(page, "the portal as finance")
    screenshot(page, "portal-finance-phone")
    audit.assert_none()


def test_sign_in_problems_are_said_in_words_under_the_pages_policy(web_stack, merchant, phone):
    """A page under its Content-Security-Policy (nothing injected): a wrong password, and an invitation
    link that was used already."""
    merchant.owner_token()
    phone.goto(f"{web_stack.url}/portal")
    sign_in(phone, merchant.owner_email, "not the password")
    alert = phone.locator("#sign-in-alert")
    alert.wait_for()
    assert alert.inner_text() == "Anmeldung fehlgeschlagen: E-Mail oder Passwort stimmen nicht."
    assert phone.evaluate("document.activeElement.id") == "sign-in-alert"
    screenshot(phone, "portal-sign-in-failed-phone")

    phone.goto(merchant.link)  # spent: the owner set the password with it
    phone.get_by_label("Neues Passwort").fill(PASSWORD)
    phone.get_by_label("Passwort wiederholen").fill(PASSWORD)
    phone.get_by_role("button", name="Passwort speichern und anmelden").click()
    alert = phone.locator("#set-password-alert")
    alert.wait_for()
    assert alert.inner_text() == (
        "Dieser Link ist abgelaufen oder wurde schon benutzt. Melden Sie sich mit Ihrem Passwort an "
        "oder lassen Sie sich erneut einladen."
    )

    phone.get_by_role("button", name="Ich habe schon ein Passwort").click()
    sign_in(phone, merchant.owner_email)
    page_alert = phone.locator("#page-alert")
    page_alert.wait_for()  # the invitation was accepted already: said, and the store opens anyway
    assert page_alert.inner_text() == "Diese Einladung wurde schon angenommen, zurückgezogen oder ist abgelaufen."
    portal_of(phone, merchant)
    assert phone.url == f"{web_stack.url}/portal?store={merchant.store}"
    screenshot(phone, "portal-invitation-gone-phone")


def test_a_person_in_several_stores_chooses_which_to_open(web_stack, merchant, phone_page, audit):
    """An address belongs to one store, but the page does not assume it: `GET /v1/me` answered here
    with a second store, the person is asked which one to open."""
    page = phone_page

    def two_stores(route):
        me = route.fetch().json()
        route.fulfill(json=me | {"stores": me["stores"] | {"aaa-zweites": "finance"}})

    page.route("**/v1/me", two_stores)
    merchant.owner_token()
    page.goto(f"{web_stack.url}/portal")
    sign_in(page, merchant.owner_email)
    choice = page.get_by_label("Geschäft", exact=True)
    choice.wait_for()
    assert choice.locator("option").all_inner_texts() == ["aaa-zweites (Buchhaltung)", f"{merchant.store} (Inhaber)"]
    audit.check(page, "choosing a store")
    screenshot(page, "portal-choose-store-phone")
    choice.select_option(merchant.store)
    page.get_by_role("button", name="Öffnen").click()
    portal_of(page, merchant)
    assert page.url == f"{web_stack.url}/portal?store={merchant.store}"
    assert page.locator("#team-section").is_visible()
    audit.assert_none()
