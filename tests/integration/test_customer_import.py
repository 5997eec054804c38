"""Customer lists imported over HTTP as shops and accountants have them: Windows-1252 with `;`, UTF-8
with a BOM and `,`, German phone numbers, a row repeated, a bad row in the middle. The dry run counts
what the real run does; importing the file again changes nothing."""

from __future__ import annotations

import time

from support import auth, idem, journal_types

CP1252 = (
    "Vorname;Nachname;E-Mail;Telefon;Geburtstag;Newsletter\r\n"
    "Jörg;Müller;joerg@example.com;0171 1234567;03.04.1980;ja\r\n"
    "Anna;Weiß;anna@example.com;+49 (0) 30 1234567;;nein\r\n"
    "Bernd;Groß;not-an-email;;;\r\n"
    "Jörg;Müller;JOERG@example.com;0171/1234567;03.04.1980;ja\r\n"
    "Clara;Straße;;030 7654321;1990-12-24;\r\n"
).encode("cp1252")
BOM_UTF8 = (
    "\ufeffgiven_name,family_name,email,phone,company\n"
    'Dora,Ökonom,dora@example.com,,"Café Dora, Inh. D. Ökonom"\n'
    "Emil,Ähm,emil@example.com,0049 171 9999999,\n"
).encode()


def post(client, store_id, body: bytes, dry_run: bool, headers=None):
    return client.post(
        f"/v1/stores/{store_id}/customer-imports?dry_run={str(dry_run).lower()}",
        data=body,
        content_type="text/csv",
        headers=auth(store_id, "owner") | (headers or idem()),
    )


def finished(client, store_id, import_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        state = client.get(f"/v1/stores/{store_id}/customer-imports/{import_id}", headers=auth(store_id, "owner"))
        assert state.status_code == 200, state.get_data(as_text=True)
        if state.get_json()["status"] != "running" or time.monotonic() > deadline:
            return state.get_json()
        time.sleep(0.1)


def test_a_windows_list_dry_run_then_imported_then_again_unchanged(client, store_id, backend):
    dry = post(client, store_id, CP1252, dry_run=True)
    assert dry.status_code == 200, dry.get_data(as_text=True)
    report = dry.get_json()
    assert (report["rows"], report["create"], report["update"], report["unchanged"]) == (5, 3, 0, 1)
    assert report["errors"] == [{"line": 4, "field": "email", "message": "not an e-mail address"}]
    assert client.get(f"/v1/stores/{store_id}/customers", headers=auth(store_id)).get_json()["data"] == []

    key = idem()
    started = post(client, store_id, CP1252, dry_run=False, headers=key)
    assert started.status_code == 202, started.get_data(as_text=True)
    import_id = started.get_json()["import_id"]
    replay = post(client, store_id, CP1252, dry_run=False, headers=key)
    assert (replay.status_code, replay.get_json()["import_id"]) == (202, import_id)  # not imported twice
    state = finished(client, store_id, import_id)
    assert {k: state[k] for k in ("status", "rows", "processed", "create", "update", "unchanged", "errors")} == {
        "status": "done",
        "rows": 5,
        "processed": 5,
        "create": 3,
        "update": 0,
        "unchanged": 1,
        "errors": 1,
    }
    found = client.get(f"/v1/stores/{store_id}/customers", headers=auth(store_id)).get_json()["data"]
    by_name = {c["given_name"]: c for c in found}
    assert sorted(by_name) == ["Anna", "Clara", "Jörg"]
    assert (by_name["Jörg"]["family_name"], by_name["Jörg"]["phone"], by_name["Jörg"]["birthday"]) == (
        "Müller",
        "+491711234567",
        "1980-04-03",
    )
    assert by_name["Anna"]["phone"] == "+49301234567"
    assert by_name["Jörg"]["consents"]["email"]["state"] == "granted"
    assert by_name["Anna"]["consents"]["email"]["state"] == "withdrawn"
    assert by_name["Clara"]["consents"]["email"]["state"] == "never_asked"
    errors = client.get(
        f"/v1/stores/{store_id}/customer-imports/{import_id}/errors.csv", headers=auth(store_id, "owner")
    )
    assert errors.content_type == "text/csv; charset=utf-8"
    assert errors.get_data().decode("utf-8-sig").splitlines() == [
        "reason,Vorname,Nachname,E-Mail,Telefon,Geburtstag,Newsletter".replace(",", ";"),
        "email: not an e-mail address;Bernd;Groß;not-an-email;;;",
    ]
    assert journal_types(backend, store_id).count("customers.imported") == 1

    again = post(client, store_id, CP1252, dry_run=False)
    state = finished(client, store_id, again.get_json()["import_id"])
    assert (state["create"], state["update"], state["unchanged"], state["errors"]) == (0, 0, 4, 1)


def test_a_utf8_list_with_a_bom_and_commas_updates_what_staff_made(client, store_id):
    made = client.post(
        f"/v1/stores/{store_id}/customers",
        json={"given_name": "Dora", "email": "dora@example.com", "phone": "0171 5555555"},
        headers=auth(store_id),
    ).get_json()
    dry = post(client, store_id, BOM_UTF8, dry_run=True).get_json()
    assert (dry["rows"], dry["create"], dry["update"], dry["errors"]) == (2, 1, 1, [])
    state = finished(client, store_id, post(client, store_id, BOM_UTF8, dry_run=False).get_json()["import_id"])
    assert (state["create"], state["update"]) == (1, 1)
    dora = client.get(f"/v1/stores/{store_id}/customers/{made['id']}", headers=auth(store_id)).get_json()
    assert (dora["company"], dora["family_name"], dora["phone"], dora["version"]) == (
        "Café Dora, Inh. D. Ökonom",
        "Ökonom",
        "+491715555555",  # an empty cell keeps what staff typed in
        2,
    )


def test_an_import_is_for_owners_and_supervisors_and_refuses_what_is_no_list(client, store_id):
    refused = client.post(
        f"/v1/stores/{store_id}/customer-imports", data=CP1252, content_type="text/csv", headers=auth(store_id) | idem()
    )
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    not_csv = client.post(
        f"/v1/stores/{store_id}/customer-imports",
        json={"rows": []},
        headers=auth(store_id, "owner") | idem(),
    )
    assert (not_csv.status_code, not_csv.get_json()["code"]) == (415, "unsupported_media_type")
    headerless = post(client, store_id, b"foo;bar\r\n1;2\r\n", dry_run=True)
    assert (headerless.status_code, headerless.get_json()["code"]) == (422, "validation_failed")
    unknown = client.get(f"/v1/stores/{store_id}/customer-imports/imp_nothing", headers=auth(store_id, "owner"))
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "import_not_found")
