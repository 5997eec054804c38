"""Sales taken on site signed by the TSE over HTTP on the emulator, the TSE being the local fiskaly
stand-in reached through Tresen's fiskaly adapter: every sale at the counter and by card at a
terminal has a finished transaction with its signature and counter, online sales none; a TSE down
for a minute never stops a sale — the sales are marked failed and the job signs them once it is back;
a finish whose answer was lost is signed once."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from test_terminals_api import card_order, tap, till  # noqa: F401  (the fixture)

from support import auth, deliver, idem, journal_types, order_body, paid_order
from tresen.adapters.fiskaly import FiskalyTse
from tresen.standins.fiskaly_api import FiskalyStandIn, log_message, start, verify

pytestmark = pytest.mark.emulator

KEY, SECRET = "fiskaly-key-test", "fiskaly-secret-test"


class Tse:
    """The stand-in on a free port, and what the test asks of it."""

    def __init__(self):
        self.stand_in = FiskalyStandIn(KEY, SECRET)
        self.server, self.url = start(self.stand_in)

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = requests.request(method, f"{self.url}/_standin{path}", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def finishes(self, tss_id: str) -> list[dict]:
        """Every log of a transaction's end the TSS signed."""
        return [
            log for log in self.control("GET", f"/tss/{tss_id}/tx")["logs"] if log["operation"] == "FinishTransaction"
        ]


@pytest.fixture
def tse(backend, monkeypatch):
    stand = Tse()
    monkeypatch.setattr(backend, "tse", FiskalyTse(stand.url, KEY, SECRET, timeout=1.0))
    yield stand
    stand.control("DELETE", "/outage")
    stand.server.shutdown()


def staff_order(client, store_id: str, order_id: str) -> dict:
    """The order once the TSE's answer (or its failure) is recorded: the signing goes on after the
    order's answer."""
    deadline = time.monotonic() + 15
    while True:
        order = client.get(f"/v1/stores/{store_id}/orders/{order_id}", headers=auth(store_id)).get_json()
        if order["tse_status"] != "pending" or time.monotonic() > deadline:
            return order
        time.sleep(0.05)


def on_site(client, store_id: str) -> dict:
    placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert placed.status_code == 201, placed.get_json()
    return placed.get_json()


def signed_by_the_tse(signed: dict) -> bool:
    """The TSE's signature of the sale's end verifies with its public key over what it logged."""
    record = signed["tse"]
    end = int(datetime.fromisoformat(record["end"]).timestamp())
    message = log_message(
        "FinishTransaction",
        record["client_id"],
        "Kassenbeleg-V1",
        record["process_data"],
        record["transaction_number"],
        record["signature_counter"],
        end,
    )
    return verify(record["public_key"], record["signature"], message)


def test_every_sale_on_site_is_signed_and_online_sales_are_not(client, backend, store_id, till, reports, tse):  # noqa: F811
    _, terminal = till
    counter = staff_order(client, store_id, on_site(client, store_id)["id"])
    card = card_order(client, store_id, terminal)
    tap(client, terminal, brand="visa")
    for event in reports:
        deliver(client, event)
    online = paid_order(client, store_id)
    card = staff_order(client, store_id, card["id"])
    assert [order["tse_status"] for order in (counter, card)] == ["signed", "signed"]
    assert (counter["tse"]["process_data"], card["tse"]["process_data"]) == (
        "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Bar",
        "Beleg^2.60_5.80_0.00_0.00_0.00^8.40:Unbar",
    )
    assert all(signed_by_the_tse(order) for order in (counter, card))
    assert counter["tse"]["signature_counter"] < card["tse"]["signature_counter"]
    assert counter["tse"]["client_id"] == f"tresen-{store_id}-counter" != card["tse"]["client_id"]
    assert counter["tse"]["qr_code"].startswith(f"V0;tresen-{store_id}-counter;Kassenbeleg-V1;Beleg^2.60_5.80")
    online = staff_order(client, store_id, online["id"])
    assert (online["tse_status"], online["tse"]) == (None, None)
    assert journal_types(backend, store_id).count("tse.signed") == 2


def test_a_tse_down_for_a_minute_never_stops_a_sale_and_the_job_signs_them_after(client, backend, store_id, tse):
    tse.control("POST", "/outage", {"seconds": 60})
    during = [on_site(client, store_id) for _ in range(3)]
    assert [staff_order(client, store_id, order["id"])["tse_status"] for order in during] == ["failed"] * 3
    assert client.post("/v1/jobs/tse").get_json() == {"signed": 0, "failed": 3}  # still down
    assert journal_types(backend, store_id).count("tse.failed") == 3  # each failure once
    tse.control("DELETE", "/outage")  # the minute is over
    assert client.post("/v1/jobs/tse").get_json()["signed"] >= 3  # other tests' stores may wait too
    signed = [staff_order(client, store_id, order["id"]) for order in during]
    assert [order["tse_status"] for order in signed] == ["signed"] * 3
    assert all(signed_by_the_tse(order) for order in signed)
    counters = [order["tse"]["signature_counter"] for order in signed]
    assert counters == sorted(counters) and len(set(counters)) == 3


def test_a_finish_whose_answer_was_lost_is_signed_once(client, backend, store_id, tse):
    on_site(client, store_id)  # the store's TSS and counter are set up
    tse.control("POST", "/outage", {"seconds": 3, "hang": True})  # answered only after Tresen gave up
    lost = on_site(client, store_id)
    assert staff_order(client, store_id, lost["id"])["tse_status"] == "failed"
    tse.control("DELETE", "/outage")
    assert client.post("/v1/jobs/tse").get_json()["failed"] == 0
    signed = staff_order(client, store_id, lost["id"])
    tss_id = backend.store_tses.read(store_id)[0].tss_id
    ends = [log for log in tse.finishes(tss_id) if log["number"] == signed["tse"]["transaction_number"]]
    assert len(ends) == 1 and signed_by_the_tse(signed)


def test_the_dsfinvk_export_of_such_a_day_fills_the_tse_tables(client, store_id, till, reports, tse):  # noqa: F811
    _, terminal = till
    counter = [on_site(client, store_id) for _ in range(2)]
    card = card_order(client, store_id, terminal)
    tap(client, terminal, brand="girocard")
    for event in reports:
        deliver(client, event)
    signed = [staff_order(client, store_id, order["id"])["tse"] for order in (*counter, card)]  # once signed
    assert client.post(f"/v1/stores/{store_id}/closings", headers=auth(store_id, "owner") | idem()).status_code == 201
    signed.sort(key=lambda tse: tse["signature_counter"])  # the sales at the counter are signed side by side
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    exported = client.get(
        f"/v1/stores/{store_id}/export/dsfinvk",
        query_string={"from": today, "to": today},
        headers=auth(store_id, "finance"),
    )
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        tables = {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode()), delimiter=";"))
            for name in ("tse.csv", "transactions_tse.csv")
        }
    [device] = tables["tse.csv"]
    assert (device["TSE_SERIAL"], device["TSE_SIG_ALGO"], device["TSE_PUBLIC_KEY"]) == (
        signed[0]["tss_serial"],
        "ecdsa-plain-SHA384",
        signed[0]["public_key"],
    )
    rows = tables["transactions_tse.csv"]
    assert [(row["TSE_TANR"], row["TSE_TA_SIGZ"], row["TSE_TA_SIG"], row["TSE_VORGANGSDATEN"]) for row in rows] == [
        (str(s["transaction_number"]), str(s["signature_counter"]), s["signature"], s["process_data"]) for s in signed
    ]
    counters = [int(row["TSE_TA_SIGZ"]) for row in rows]
    assert counters == sorted(counters) and {row["TSE_TA_VORGANGSART"] for row in rows} == {"Kassenbeleg-V1"}
    assert {row["TSE_ID"] for row in rows} == {device["TSE_ID"]} and not any(row["TSE_TA_FEHLER"] for row in rows)
