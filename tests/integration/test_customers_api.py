"""Customer records over HTTP against the emulator: normalised and unique under concurrency, searched,
changed under versions, guarded by the passkey, linked to their orders, consent with its history,
and erasure that leaves only what tax law keeps."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from test_verify_checkpoints import auditor, copy_bucket

from support import auth, idem, journal_types, order_body, paid_order, run_tresen, set_passkey

ANNA = {"given_name": "Anna", "family_name": "Müller", "email": " Anna.Mueller@Example.COM ", "phone": "0171 1234567"}


def create(client, store_id, body=None, role="staff", headers=None):
    return client.post(
        f"/v1/stores/{store_id}/customers",
        json=ANNA if body is None else body,
        headers=auth(store_id, role) | (headers or {}),
    )


def test_a_record_is_normalised_and_read_back_with_its_channels_never_asked(client, store_id):
    made = create(client, store_id)
    assert made.status_code == 201, made.get_data(as_text=True)
    record = made.get_json()
    assert (record["email"], record["phone"], record["version"]) == ("anna.mueller@example.com", "+491711234567", 1)
    assert record["consents"] == {
        "email": {"state": "never_asked", "history": []},
        "sms": {"state": "never_asked", "history": []},
    }
    read = client.get(f"/v1/stores/{store_id}/customers/{record['id']}", headers=auth(store_id, "supervisor"))
    assert read.get_json() == record
    for bad, field in (({"email": "nope"}, "email"), ({"phone": "12"}, "phone"), ({"note": "x"}, "given_name")):
        refused = create(client, store_id, bad)
        assert (refused.status_code, refused.get_json()["errors"][0]["field"]) == (422, field), bad


def test_of_twenty_concurrent_creates_with_one_email_exactly_one_succeeds(client, store_id):
    bodies = [{"given_name": f"Person {n}", "email": "same@example.com"} for n in range(20)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda body: create(client, store_id, body), bodies))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 19
    [winner] = [answer.get_json()["id"] for answer in answers if answer.status_code == 201]
    refused = [answer.get_json() for answer in answers if answer.status_code == 409]
    assert {(problem["code"], problem["existing_id"]) for problem in refused} == {("customer_exists", winner)}
    same_phone = create(client, store_id, {"given_name": "B", "phone": "+49 (0) 171 1234567"})
    first_phone = create(client, store_id, {"given_name": "C", "phone": "0171/1234567"})
    assert (same_phone.status_code, first_phone.get_json()["existing_id"]) == (201, same_phone.get_json()["id"])


def test_search_by_name_prefix_email_and_phone(client, store_id):
    anna = create(client, store_id).get_json()
    create(client, store_id, {"given_name": "Bernd", "family_name": "Annaberg", "email": "b@example.com"})
    create(client, store_id, {"given_name": "Clara", "email": "c@example.com"})

    def found(q):
        answer = client.get(f"/v1/stores/{store_id}/customers", query_string={"q": q}, headers=auth(store_id))
        return sorted(c["given_name"] for c in answer.get_json()["data"])

    assert found("ann") == ["Anna", "Bernd"]
    assert found("MÜL") == ["Anna"]
    assert found("ANNA.MUELLER@example.com") == ["Anna"]
    assert found("+49 171 1234567") == ["Anna"]
    assert found("") == ["Anna", "Bernd", "Clara"]
    first = client.get(f"/v1/stores/{store_id}/customers?limit=2", headers=auth(store_id)).get_json()
    rest = client.get(
        f"/v1/stores/{store_id}/customers?limit=2&cursor={first['next_cursor']}", headers=auth(store_id)
    ).get_json()
    assert (len(first["data"]), first["has_more"], len(rest["data"]), rest["has_more"]) == (2, True, 1, False)
    assert anna["id"] in [c["id"] for c in first["data"] + rest["data"]]


def test_a_change_needs_the_version_read_and_keeps_contacts_unique(client, store_id, backend):
    anna = create(client, store_id).get_json()
    other = create(client, store_id, {"given_name": "Otto", "email": "otto@example.com"}).get_json()
    path = f"/v1/stores/{store_id}/customers/{anna['id']}"
    changed = client.patch(path, json={"company": "Café Müller"}, headers=auth(store_id) | {"If-Match": '"1"'})
    assert (changed.status_code, changed.get_json()["version"], changed.get_json()["phone"]) == (
        200,
        2,
        "+491711234567",
    )
    stale = client.patch(path, json={"note": "late"}, headers=auth(store_id) | {"If-Match": "1"})
    assert (stale.status_code, stale.get_json()["code"]) == (412, "version_mismatch")
    taken = client.patch(path, json={"email": "OTTO@example.com"}, headers=auth(store_id) | {"If-Match": "2"})
    assert (taken.status_code, taken.get_json()["existing_id"]) == (409, other["id"])
    moved = client.patch(path, json={"email": "anna@new.example"}, headers=auth(store_id) | {"If-Match": "2"})
    assert moved.get_json()["email"] == "anna@new.example"
    # the old address is free again, the new one taken
    assert create(client, store_id, {"given_name": "X", "email": "anna.mueller@example.com"}).status_code == 201
    assert create(client, store_id, {"given_name": "Y", "email": "anna@new.example"}).status_code == 409
    assert journal_types(backend, store_id).count("customer.updated") == 2


def test_the_passkey_guards_create_change_erase_export_and_import(client, store_id):
    anna = create(client, store_id).get_json()
    set_passkey(client, store_id, protect=("customer_data",))
    path = f"/v1/stores/{store_id}/customers"
    attempts = [
        lambda headers: client.post(path, json={"given_name": "Z"}, headers=auth(store_id) | headers),
        lambda headers: client.patch(f"{path}/{anna['id']}", json={"note": "n"}, headers=auth(store_id) | headers),
        lambda headers: client.get(f"{path}/{anna['id']}/export", headers=auth(store_id, "owner") | headers),
        lambda headers: client.post(
            f"/v1/stores/{store_id}/customer-imports?dry_run=true",
            data=b"email\r\nz@example.com\r\n",
            content_type="text/csv",
            headers=auth(store_id, "supervisor") | idem() | headers,
        ),
    ]
    for attempt in attempts:
        missing = attempt({})
        assert (missing.status_code, missing.get_json()["code"]) == (403, "passkey_required")
        assert attempt({"X-Passkey": "246810"}).status_code in (200, 201)
    wrong = [client.delete(f"{path}/{anna['id']}", headers=auth(store_id, "owner") | {"X-Passkey": "000000"})]
    wrong += [attempts[0]({"X-Passkey": "000000"}) for _ in range(4)]
    assert [(w.status_code, w.get_json()["code"]) for w in wrong] == [(403, "passkey_invalid")] * 5
    locked = attempts[1]({"X-Passkey": "246810"})
    assert (locked.status_code, locked.get_json()["code"]) == (423, "passkey_locked")


def test_orders_carry_the_customer_and_are_listed_with_it(client, store_id):
    anna = create(client, store_id).get_json()
    by_email = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(customer={"name": "A. M.", "email": "ANNA.MUELLER@example.com"}),
        headers=idem(),
    ).get_json()
    by_phone = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(customer={"name": "Anna", "email": "other@example.com", "phone": "+49 171 1234567"}),
        headers=idem(),
    ).get_json()
    stranger = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    staff = auth(store_id)
    seen = client.get(f"/v1/stores/{store_id}/orders/{by_email['id']}", headers=staff).get_json()
    assert seen["customer_id"] == anna["id"]
    listed = client.get(f"/v1/stores/{store_id}/orders", headers=staff).get_json()["data"]
    assert {o["id"]: o["customer_id"] for o in listed} == {
        by_email["id"]: anna["id"],
        by_phone["id"]: anna["id"],
        stranger["id"]: None,
    }
    history = client.get(f"/v1/stores/{store_id}/customers/{anna['id']}/orders?limit=1", headers=staff).get_json()
    assert ([o["id"] for o in history["data"]], history["has_more"]) == ([by_phone["id"]], True)
    rest = client.get(
        f"/v1/stores/{store_id}/customers/{anna['id']}/orders?cursor={history['next_cursor']}", headers=staff
    ).get_json()
    assert [o["id"] for o in rest["data"]] == [by_email["id"]]
    customer_view = client.get(f"/v1/orders/{by_email['id']}", headers={"X-Order-Token": by_email["access_token"]})
    assert customer_view.get_json()["customer_id"] is None  # the customer is not shown the store's record


def test_consent_is_a_history_per_channel(client, store_id):
    anna = create(client, store_id).get_json()
    path = f"/v1/stores/{store_id}/customers/{anna['id']}"
    wording = "Ich möchte den Newsletter per E-Mail erhalten."
    for state in ("granted", "withdrawn"):
        given = client.post(
            f"{path}/consents",
            json={"channel": "email", "state": state, "source": "counter", "wording": wording},
            headers=auth(store_id, uid="staff-7"),
        )
        assert given.status_code == 201, given.get_data(as_text=True)
    record = client.get(path, headers=auth(store_id)).get_json()
    email = record["consents"]["email"]
    assert (email["state"], [c["state"] for c in email["history"]]) == ("withdrawn", ["granted", "withdrawn"])
    assert email["history"][0]["by"] == {"type": "staff", "uid": "staff-7", "role": "staff"}
    assert record["consents"]["sms"] == {"state": "never_asked", "history": []}
    bad = client.post(f"{path}/consents", json={"channel": "fax", "state": "granted"}, headers=auth(store_id))
    assert bad.status_code == 422


def test_erasure_removes_the_person_but_the_name_an_invoice_over_250_euros_keeps(client, store_id, backend):
    anna = create(client, store_id).get_json()
    small = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(customer={"name": "Anna Müller", "email": ANNA["email"]}),
        headers=idem(),
    ).get_json()  # fmt: skip
    items = [{"product_id": "croissant", "quantity": 99}, {"product_id": "espresso", "quantity": 99}]
    large = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(items=items, customer={"name": "Anna Müller", "email": ANNA["email"]}),
        headers=idem(),
    ).get_json()
    assert large["totals"]["total"] == 99 * 550  # 544.50 €: over 250 €
    exported = client.get(f"/v1/stores/{store_id}/customers/{anna['id']}/export", headers=auth(store_id, "owner"))
    assert sorted(o["id"] for o in exported.get_json()["orders"]) == sorted([small["id"], large["id"]])

    erased = client.delete(f"/v1/stores/{store_id}/customers/{anna['id']}", headers=auth(store_id, "owner"))
    assert erased.status_code == 200, erased.get_data(as_text=True)
    answer = erased.get_json()
    year = int(large["created_at"][:4])
    assert answer["erased"] is True
    assert [(r["order_id"], r["until"]) for r in answer["retained"]] == [(large["id"], f"{year + 8}-12-31")]
    assert client.get(f"/v1/stores/{store_id}/customers/{anna['id']}", headers=auth(store_id)).status_code == 404
    staff = auth(store_id, "owner")
    small_now = client.get(f"/v1/stores/{store_id}/orders/{small['id']}", headers=staff).get_json()
    large_now = client.get(f"/v1/stores/{store_id}/orders/{large['id']}", headers=staff).get_json()
    assert small_now["customer"] == {"name": "(gelöscht)", "email": "", "phone": None}
    assert large_now["customer"] == {"name": "Anna Müller", "email": "", "phone": None}
    assert small_now["customer_id"] is None and large_now["customer_id"] is None
    listed = client.get(f"/v1/stores/{store_id}/orders", headers=staff).get_data(as_text=True)
    assert "mueller@example" not in listed.lower()
    assert journal_types(backend, store_id)[-1] == "customer.erased"
    [entry] = [e for e in backend.journal.entries(store_id) if e["type"] == "customer.erased"]
    assert entry["data"] == {"customer_id": anna["id"], "orders": 2, "retained": 1}
    again = create(client, store_id)  # the contacts are free again
    assert again.status_code == 201


def test_after_an_erasure_no_export_statement_or_answer_names_the_person_and_the_journal_verifies(
    client, store_id, backend, tmp_path
):
    """The person's name and e-mail in none of: the API's order answers, the CSV change feed, the
    DATEV and GoBD exports, a new statement's files; `tresen verify` online and offline still pass."""

    person = {"given_name": "Wilhelmine", "family_name": "Zaunkönig", "email": "wilhelmine.zaunkoenig@example.com"}
    made = create(client, store_id, person).get_json()
    paid = paid_order(client, store_id, customer={"name": "Wilhelmine Zaunkönig", "email": person["email"]})
    assert paid["customer"]["email"] == person["email"]
    assert (
        client.delete(f"/v1/stores/{store_id}/customers/{made['id']}", headers=auth(store_id, "owner")).status_code
        == 200
    )

    day = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    business_day = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(hours=5)).date().isoformat()
    finance = auth(store_id, "finance")
    texts = [
        client.get(f"/v1/orders/{paid['id']}", headers={"X-Order-Token": paid["access_token"]}).get_data(),
        client.get(f"/v1/stores/{store_id}/orders", headers=finance).get_data(),
        client.get(f"/v1/stores/{store_id}/export/orders?format=csv&from={day}&to={day}", headers=finance).get_data(),
        client.get(f"/v1/stores/{store_id}/export/orders?format=jsonl&from={day}&to={day}", headers=finance).get_data(),
        client.get(f"/v1/stores/{store_id}/export/datev?from={day}&to={day}", headers=finance).get_data(),
    ]
    gobd = client.get(f"/v1/stores/{store_id}/export/gobd?from={day}&to={day}", headers=finance).get_data()
    with zipfile.ZipFile(io.BytesIO(gobd)) as archive:
        texts += [archive.read(name) for name in archive.namelist()]
    statement = client.post(
        f"/v1/stores/{store_id}/statements",
        json={"from": business_day, "to": business_day},
        headers=finance | idem(),
    ).get_json()
    for file in client.get(f"/v1/stores/{store_id}/statements/{statement['id']}", headers=finance).get_json()["files"]:
        with urllib.request.urlopen(file["url"], timeout=10) as response:
            texts.append(response.read())
    assert len(texts) > 10
    for text in texts:
        for needle in ("zaunk", "wilhelmine"):
            assert needle not in text.decode("utf-8", "replace").lower(), needle
            assert needle.encode("cp1252") not in text.lower()

    backend.archive.drain()
    code, output = run_tresen("verify", "--store", store_id)
    assert code == 0, output
    keys = tmp_path / "public-keys.json"
    keys.write_bytes(client.get("/v1/journal/public-keys").get_data())
    offline = auditor("--archive", str(copy_bucket(store_id, tmp_path / "bucket")), "--keys", str(keys), cwd=tmp_path)
    assert offline.returncode == 0, offline.stdout + offline.stderr
