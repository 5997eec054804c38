"""Gift cards over HTTP as a merchant uses them: sell, load, redeem, authorize, block, transfer."""

import threading
from datetime import date, timedelta

from support import act, auth, idem, inquire, journal_types, ledger_of, sell
from tresen.adapters import clock
from tresen.adapters import giftcard_store as store
from tresen.adapters.clock import now
from tresen.domain.giftcards import normalize_code


def test_the_card_lifecycle_as_a_merchant_runs_it(client, store_id, backend):
    card = sell(client, store_id, 5000)
    code = card["code"]
    assert (card["status"], card["balance"], card["currency"], len(code)) == ("active", 5000, "EUR", 19)
    assert card["expires_at"] == f"{date.today().year + 4}-01-01T00:00:00+01:00"  # 3 years after this one
    assert code.count("-") == 3 and card["last4"] == code[-4:]

    # input is case-insensitive and ignores spaces and dashes
    sloppy = code.lower().replace("-", " ")
    loaded = act(client, store_id, sloppy, "load", {"amount": 1000})
    assert (loaded.status_code, loaded.get_json()["balance"], loaded.get_json()["code"]) == (200, 6000, None)
    redeemed = act(client, store_id, code, "redeem", {"amount": 2500})
    assert redeemed.get_json()["balance"] == 3500
    too_much = act(client, store_id, code, "redeem", {"amount": 3501})
    assert (too_much.status_code, too_much.get_json()["code"]) == (409, "giftcard_insufficient_funds")

    # an offline (voice-authorized) redeem: the amount is held, then captured for less
    held = act(client, store_id, code, "authorizations", {"type": "redeem", "amount": 2000})
    assert held.status_code == 201
    auth_code = held.get_json()["auth_code"]
    assert len(auth_code) == 6 and auth_code.isalnum() and auth_code.upper() == auth_code
    assert held.get_json()["balance"] == 1500
    captured = act(client, store_id, code, "redeem", {"amount": 1800, "auth_code": auth_code})
    assert (captured.get_json()["balance"], captured.get_json()["holds"]) == (1700, [])
    again = act(client, store_id, code, "redeem", {"amount": 100, "auth_code": auth_code})
    assert again.get_json()["code"] == "giftcard_authorization_not_found"

    # lost: deactivated cards refuse every change until a supervisor reactivates them
    lost = act(client, store_id, code, "deactivate", {"reason": "lost"}, key=False)
    assert (lost.get_json()["status"], lost.get_json()["deactivation_reason"]) == ("deactivated", "lost")
    refused = act(client, store_id, code, "redeem", {"amount": 100})
    assert (refused.status_code, refused.get_json()["code"]) == (409, "giftcard_not_active")
    assert act(client, store_id, code, "reactivate", role="staff", key=False).status_code == 403
    back = act(client, store_id, code, "reactivate", role="supervisor", key=False)
    assert (back.status_code, back.get_json()["status"]) == (200, "active")

    # transfer to a replacement card: the whole balance moves, both ledgers name each other
    moved = act(client, store_id, code, "transfer", role="supervisor")
    assert moved.status_code == 201
    old, new = moved.get_json()["old"], moved.get_json()["new"]
    assert (old["status"], old["balance"], old["transferred_to"]) == ("deactivated", 0, new["id"])
    assert (new["status"], new["balance"], new["transferred_from"]) == ("active", 1700, old["id"])

    history = inquire(client, store_id, code).get_json()["activities"]
    assert [a["type"] for a in history] == [
        "transfer_out",
        "reactivate",
        "deactivate",
        "release",
        "capture",
        "authorize",
        "redeem",
        "load",
        "activate",
    ]
    assert [a["balance_after"] for a in history] == [0, 1700, 1700, 1700, 1500, 1500, 3500, 6000, 5000]
    assert history[0]["linked_card_id"] == new["id"]
    assert inquire(client, store_id, new["code"]).get_json()["activities"][0]["linked_card_id"] == old["id"]
    assert ledger_of(backend, code) == (0, 9)
    assert ledger_of(backend, new["code"]) == (1700, 1)
    assert journal_types(backend, store_id)[-10:] == [
        "giftcard.activate",
        "giftcard.load",
        "giftcard.redeem",
        "giftcard.authorize",
        "giftcard.capture",
        "giftcard.release",
        "giftcard.deactivate",
        "giftcard.reactivate",
        "giftcard.transfer_out",
        "giftcard.transfer_in",
    ]


def test_the_database_holds_no_usable_code(client, store_id, backend):
    code = sell(client, store_id, 1000)["code"]
    plain = normalize_code(code)
    hashed = store.keyed_hash(plain)
    doc = backend.db.document(f"giftcards/{hashed}").get().to_dict()
    assert doc["last4"] == plain[-4:]
    everything = str(doc) + str([a.to_dict() for a in backend.db.collection(f"giftcards/{hashed}/activities").get()])
    everything += str([e.to_dict() for e in backend.db.collection(f"stores/{store_id}/journal").get()])
    assert plain not in everything and plain[:12] not in everything


def test_twenty_concurrent_redeems_of_ten_euros_on_fifty(client, store_id, backend):
    code = sell(client, store_id, 5000)["code"]
    statuses = []

    def redeem():
        statuses.append(act(client, store_id, code, "redeem", {"amount": 1000}).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [409] * 15
    assert inquire(client, store_id, code).get_json()["balance"] == 0
    assert ledger_of(backend, code) == (0, 6)


def test_roles_and_other_stores(client, store_id):
    code = sell(client, store_id, 1000)["code"]
    assert inquire(client, store_id, code, role="finance").status_code == 200
    assert act(client, store_id, code, "redeem", {"amount": 1}, role="finance").status_code == 403
    other = client.get(f"/v1/giftcards/{code}", headers=auth("elsewhere", "owner"))
    assert (other.status_code, other.get_json()["code"]) == (404, "giftcard_not_found")
    assert client.get(f"/v1/giftcards/{code}").status_code == 401
    assert act(client, store_id, code, "load", {"amount": 100}, key=False).status_code == 400
    for bad in ({"amount": 1.5}, {"amount": "100"}, {"amount": 0}, {"amount": -5}, {}):
        assert act(client, store_id, code, "load", bad).status_code == 422, bad
    assert act(client, store_id, code, "deactivate", {"reason": "bored"}, key=False).status_code == 422
    block = client.post(
        f"/v1/stores/{store_id}/giftcards", json={"amount": 1000, "count": 5}, headers=auth(store_id) | idem()
    )
    assert block.status_code == 403


def test_load_with_an_offline_approval(client, store_id):
    code = sell(client, store_id, 1000)["code"]
    approval = act(client, store_id, code, "authorizations", {"type": "load", "amount": 3000}).get_json()
    assert approval["balance"] == 1000  # a load approval holds nothing
    loaded = act(client, store_id, code, "load", {"amount": 3000, "auth_code": approval["auth_code"].lower()})
    assert (loaded.get_json()["balance"], loaded.get_json()["holds"]) == (4000, [])


def test_an_idempotent_redeem_is_applied_once(client, store_id, backend):
    code = sell(client, store_id, 1000)["code"]
    headers = auth(store_id) | idem()
    first = client.post(f"/v1/giftcards/{code}/redeem", json={"amount": 400}, headers=headers)
    second = client.post(f"/v1/giftcards/{code}/redeem", json={"amount": 400}, headers=headers)
    assert (second.headers.get("Idempotent-Replayed"), second.data) == ("true", first.data)
    assert ledger_of(backend, code) == (600, 2)


def test_public_balance_inquiry_with_rate_limits(client, store_id, monkeypatch):
    code = sell(client, store_id, 2500)["code"]
    # the limits count in fixed windows: every ask falls in the same ones, however long the test runs
    window_start = now().replace(minute=now().minute // 15 * 15, second=1, microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: window_start)

    def ask(body, address="203.0.113.7"):
        return client.post("/v1/giftcards/balance", json=body, headers={"X-Forwarded-For": f"10.0.0.1, {address}"})

    answer = ask({"code": code})
    assert answer.status_code == 200
    assert answer.get_json() | {"expires_at": None} == {
        "status": "active",
        "balance": 2500,
        "currency": "EUR",
        "expires_at": None,
    }
    unknown, malformed = ask({"code": "2345-6789-ABCD-EFGH"}), ask({"code": "not a code"})
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.get_json() == malformed.get_json()
    # per code: 5 in 15 minutes, whichever address asks
    for n in range(4):
        assert ask({"code": code}, address=f"198.51.100.{n}").status_code == 200
    limited = ask({"code": code}, address="198.51.100.99")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # per address: 20 a minute, whatever codes it tries
    guesses = [ask({"code": f"2345-6789-ABCD-{n:04d}"}, address="192.0.2.1").status_code for n in range(21)]
    assert guesses == [404] * 20 + [429]


def test_the_job_releases_week_old_holds_and_expires_cards(client, store_id, backend):
    held_code, old_code = sell(client, store_id, 1000)["code"], sell(client, store_id, 700)["code"]
    act(client, store_id, held_code, "authorizations", {"type": "redeem", "amount": 400})
    past = now() - timedelta(seconds=1)
    held_ref = backend.db.document(f"giftcards/{store.keyed_hash(normalize_code(held_code))}")
    holds = held_ref.get().get("holds")
    held_ref.update({"holds": [holds[0] | {"expires_at": past}], "next_hold_due": past})
    backend.db.document(f"giftcards/{store.keyed_hash(normalize_code(old_code))}").update({"expires_at": past})

    outcome = client.post("/v1/jobs/giftcards").get_json()
    assert outcome["holds_released"] >= 1 and outcome["cards_expired"] >= 1  # (other tests' cards may be due too)
    held = inquire(client, store_id, held_code).get_json()
    assert (held["balance"], held["holds"], held["activities"][0]["type"]) == (1000, [], "release")
    old = inquire(client, store_id, old_code).get_json()
    assert (old["status"], old["balance"], old["activities"][0]["type"]) == ("expired", 700, "expire")
    refused = act(client, store_id, old_code, "redeem", {"amount": 100})
    assert (refused.status_code, refused.get_json()["code"]) == (409, "giftcard_not_active")
    client.post("/v1/jobs/giftcards")  # run again: an expired card is not expired twice
    assert inquire(client, store_id, old_code).get_json()["activities"][0]["n"] == 2


def test_the_inquiry_shows_the_twenty_latest_activities_newest_first(client, store_id, backend):
    code = sell(client, store_id, 100)["code"]
    for _ in range(24):
        act(client, store_id, code, "load", {"amount": 1})
    shown = inquire(client, store_id, code).get_json()
    assert [a["n"] for a in shown["activities"]] == list(range(25, 5, -1))
    assert (shown["balance"], shown["activities"][0]["balance_after"]) == (124, 124)
