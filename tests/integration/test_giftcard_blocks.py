"""Block activations of gift cards: chunks of 100 committed atomically, resumable after a crash.

The acceptance test kills `tresen giftcard-block` half-way through 10 000 cards with SIGKILL and
resumes the block: exactly 10 000 distinct active cards, each chunk in the journal once.
"""

from __future__ import annotations

import logging
import re
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from google.cloud.firestore import FieldFilter

from support import idem, run_tresen, staff_token, tresen
from tresen.adapters.firestore_client import SCAN_TIMEOUT
from tresen.adapters.giftcard_store import activation_path, chunk_path, keyed_hash
from tresen.domain.giftcards import normalize_code
from tresen.services import card_blocks as blocks
from tresen.services.archive_sweep import SweepArchive, sweep_archive
from tresen.services.orders import catalog_or_404
from tresen.services.verify import verify_store

CHUNK_EVENT = "giftcard.block_chunk_activated"
TEST_JOB = {"type": "system", "job": "test"}


def auth(store_id: str, role: str = "supervisor") -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token({store_id: role})}"}


def activations_of(backend, store_id: str) -> list:
    query = backend.db.collection("giftcard_activations").where(filter=FieldFilter("store_id", "==", store_id))
    return list(query.get())


def chunks_done(backend, activation_id: str) -> int:
    [[result]] = backend.db.collection(f"giftcard_activations/{activation_id}/chunks").count().get()
    return result.value


def block_cards(backend, store_id: str) -> list:
    query = backend.db.collection("giftcards").where(filter=FieldFilter("store_id", "==", store_id))
    return list(query.select(["id", "status", "balance"]).stream(timeout=SCAN_TIMEOUT))


def chunk_entries(backend, store_id: str) -> list[dict]:
    query = backend.db.collection(f"stores/{store_id}/journal").where(filter=FieldFilter("type", "==", CHUNK_EVENT))
    return [s.to_dict() for s in query.stream(timeout=SCAN_TIMEOUT)]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05, process=None, log: Path | None = None):
    """Poll until `predicate()` is truthy (returns it); fails with `what` (and the CLI's output) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            break
        time.sleep(interval)
    output = log.read_text() if log and log.exists() else ""
    exited = (
        f" (the CLI exited with {process.returncode})" if process is not None and process.poll() is not None else ""
    )
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{exited}\n--- CLI output ---\n{output}")


def test_a_10000_card_block_killed_half_way_and_resumed_yields_exactly_10000_distinct_active_cards(
    client, backend, store_id, tmp_path
):
    amount, count, chunks = 1000, 10_000, 100
    log = tmp_path / "giftcard-block.out"
    started = time.monotonic()
    with log.open("w") as out:
        process = tresen(
            "giftcard-block", "--store", store_id, "--amount", str(amount), "--count", str(count), stdout=out
        )
    try:
        [activation] = wait_for(
            lambda: activations_of(backend, store_id), 60, "the activation document", process=process, log=log
        )
        activation_id = activation.id
        at_kill = wait_for(
            lambda: (n := chunks_done(backend, activation_id)) >= 40 and n,
            300,
            "40 chunks to be committed",
            process=process,
            log=log,
        )
        process.send_signal(signal.SIGKILL)
        killed_after = time.monotonic() - started
        assert process.wait(timeout=30) == -signal.SIGKILL, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    time.sleep(0.5)  # a commit in flight at the kill may still land: count what is really there
    done_at_kill = chunks_done(backend, activation_id)
    assert 1 <= done_at_kill <= chunks - 1, f"not stopped half-way: {done_at_kill} chunks done at the kill"
    assert backend.db.document(activation_path(activation_id)).get().get("status") == "running"
    printed = re.findall(r"^chunk (\d+)/100: 100 activated$", log.read_text(), re.MULTILINE)
    assert log.read_text().startswith(f"activation {activation_id}\n")
    assert [int(n) for n in printed] == list(range(1, len(printed) + 1))
    assert len(printed) in (done_at_kill - 1, done_at_kill)  # killed between a commit and its line, perhaps

    resume_started = time.monotonic()
    assert blocks.resume_blocks(blocks.ResumeBlocks(), backend) >= 1
    resumed_in = time.monotonic() - resume_started
    backend.archive.drain()

    # 100 chunks, 10 000 cards: all active with the full amount, no duplicate hash or card id
    assert chunks_done(backend, activation_id) == chunks
    assert backend.db.document(activation_path(activation_id)).get().get("status") == "done"
    cards = block_cards(backend, store_id)
    prefix = f"gc_{activation_id.removeprefix('gca_')}_"
    assert all(c.get("id").startswith(prefix) for c in cards), "a card of this store not from the block"
    assert len(cards) == count
    assert len({c.id for c in cards}) == count
    assert {c.get("id") for c in cards} == {f"{prefix}{member:05d}" for member in range(count)}
    assert {c.get("status") for c in cards} == {"active"}
    assert {c.get("balance") for c in cards} == {amount}

    # the codes CSV: 10 000 distinct codes, each opening one of these cards
    csv = client.get(f"/v1/stores/{store_id}/giftcard-activations/{activation_id}/codes.csv", headers=auth(store_id))
    assert csv.status_code == 200
    header, *rows = csv.get_data(as_text=True).removesuffix("\r\n").split("\r\n")
    assert header == "number,code,amount,currency,expires_at"
    codes = [row.split(",")[1] for row in rows]
    assert [int(row.split(",")[0]) for row in rows] == list(range(1, count + 1))
    assert len(codes) == len(set(codes)) == count
    assert {keyed_hash(normalize_code(code)) for code in codes} == {c.id for c in cards}

    status = client.get(f"/v1/stores/{store_id}/giftcard-activations/{activation_id}", headers=auth(store_id))
    body = status.get_json()
    assert (body["status"], body["total"], body["activated"], body["failed"]) == ("done", count, count, 0)

    # the journal: each chunk exactly once, listing its cards; the chain is whole and archived
    entries = chunk_entries(backend, store_id)
    assert sorted(e["data"]["chunk"] for e in entries) == list(range(chunks))
    listed = [card["card_id"] for e in entries for card in e["data"]["cards"]]
    assert len(listed) == len(set(listed)) == count
    sweep_archive(SweepArchive(timedelta(0)), backend)  # what the killed process left
    verdict = verify_store(backend, store_id)
    assert verdict.ok, verdict.problem
    assert verdict.entries == 1 + chunks  # block_started and one entry per chunk

    per_chunk = killed_after / done_at_kill
    print(
        f"\n10k block: {done_at_kill} chunks done at the kill after {killed_after:.1f} s "
        f"(polled {at_kill}; {per_chunk:.2f} s per chunk incl. start-up), "
        f"resumed {chunks - done_at_kill} chunks in {resumed_in:.1f} s; "
        f"10 000 cards in {killed_after + resumed_in:.1f} s of activation"
    )


def test_a_block_over_http(client, backend, store_id):
    amount = 2500
    headers = auth(store_id) | idem()
    started = client.post(f"/v1/stores/{store_id}/giftcards", json={"amount": amount, "count": 250}, headers=headers)
    assert started.status_code == 202, started.get_json()
    activation_id = started.get_json()["activation_id"]
    assert started.get_json()["status"] == "running"

    replay = client.post(f"/v1/stores/{store_id}/giftcards", json={"amount": amount, "count": 250}, headers=headers)
    assert (replay.status_code, replay.get_json()["activation_id"]) == (202, activation_id)
    assert replay.headers.get("Idempotent-Replayed") == "true"

    url = f"/v1/stores/{store_id}/giftcard-activations/{activation_id}"
    status = wait_for(
        lambda: (body := client.get(url, headers=auth(store_id)).get_json())["status"] == "done" and body,
        60,
        "the block to be done",
        interval=0.2,
    )
    assert (status["total"], status["activated"], status["failed"]) == (250, 250, 0)
    assert [c["activated"] for c in status["chunks"]] == [100, 100, 50]
    assert len(activations_of(backend, store_id)) == 1  # the replay started nothing

    csv = client.get(f"{url}/codes.csv", headers=auth(store_id))
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.get_data(as_text=True).removesuffix("\r\n").split("\r\n")
    assert len(lines) == 251 and lines[0] == "number,code,amount,currency,expires_at"
    code = lines[137].split(",")[1]
    address = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}  # its own rate-limit bucket
    balance = client.post("/v1/giftcards/balance", json={"code": code}, headers=address)
    assert balance.status_code == 200, balance.get_json()
    assert (balance.get_json()["status"], balance.get_json()["balance"]) == ("active", amount)

    again = client.post(f"/v1/stores/{store_id}/giftcards", json={"amount": amount, "count": 250}, headers=headers)
    assert (again.get_json()["activation_id"], again.headers.get("Idempotent-Replayed")) == (activation_id, "true")
    assert len(activations_of(backend, store_id)) == 1

    staff = client.post(
        f"/v1/stores/{store_id}/giftcards",
        json={"amount": amount, "count": 250},
        headers=auth(store_id, "staff") | idem(),
    )
    assert staff.status_code == 403
    assert client.get(url, headers=auth(store_id, "staff")).status_code == 403
    assert len(activations_of(backend, store_id)) == 1


def test_a_chunk_done_before_is_recognised_at_once(backend, store_id, caplog):
    """A second runner (or a commit that landed after a crash) finds the chunk done: no card is
    taken for a colliding code, nothing is written again."""
    activation_id = blocks.start_block(blocks.StartBlock(store_id, 700, 150, TEST_JOB), backend)
    blocks.run_block(activation_id, backend)
    activation = backend.card_activations.read(activation_id)
    store, _ = catalog_or_404(backend, store_id)
    first = backend.card_activations.chunk_done(activation_id, 0)
    assert backend.db.document(chunk_path(activation_id, 0)).get().get("activated") == 100
    journal = len(backend.db.collection(f"stores/{store_id}/journal").get())

    with caplog.at_level(logging.INFO, logger="tresen"):
        again = blocks.activate_chunk(backend, store, activation, 0)
    assert again == first
    assert not [r for r in caplog.records if "collides" in r.getMessage()]
    assert chunks_done(backend, activation_id) == 2
    assert len(block_cards(backend, store_id)) == 150
    assert len(backend.db.collection(f"stores/{store_id}/journal").get()) == journal


def test_the_cli(backend, store_id):
    code, output = run_tresen("giftcard-block", "--store", store_id, "--amount", "500", "--count", "150")
    assert code == 0, output
    [activation] = activations_of(backend, store_id)
    assert output.splitlines() == [
        f"activation {activation.id}",
        "chunk 1/2: 100 activated",
        "chunk 2/2: 50 activated",
        f"activation {activation.id} done: 150 of 150 cards activated, 0 failed",
    ]
    assert activation.get("actor") == {"type": "system", "job": "cli"}

    code, output = run_tresen("giftcard-block", "--resume", "--store", store_id)
    assert (code, output.strip()) == (2, "tresen: giftcard-block --resume takes no --store")
    code, output = run_tresen("giftcard-block", "--store", store_id, "--amount", "500")
    assert code == 2 and "needs --store, --amount and --count" in output
    code, output = run_tresen("giftcard-block", "--store", store_id, "--amount", "500", "--count", "10001")
    assert (code, output.strip()) == (2, "tresen: --count must be 2-10000")
    code, output = run_tresen("giftcard-block", "--store", "nowhere", "--amount", "500", "--count", "5")
    assert (code, output.strip()) == (2, "tresen: There is no store 'nowhere'.")
    code, output = run_tresen("giftcard-block", "--store", store_id, "--amount", "0", "--count", "5")
    assert code == 2 and "Amounts are positive cents." in output
    assert len(activations_of(backend, store_id)) == 1


def left_running(backend, store_id: str, count: int) -> str:
    """A block whose process died right after recording it: running, no chunk done, no one at it."""
    return blocks.start_block(blocks.StartBlock(store_id, 900, count, TEST_JOB), backend)


def test_resume_and_sweep_finish_blocks_left_running(backend, store_id):
    first = left_running(backend, store_id, 120)
    code, output = run_tresen("giftcard-block", "--resume")
    assert code == 0, output
    assert f"activation {first}\nchunk 1/2: 100 activated\nchunk 2/2: 20 activated\n" in output
    assert re.search(r"^resumed [1-9]\d* block activations$", output, re.MULTILINE), output
    assert f"activation {first} done: 120 of 120 cards activated, 0 failed" in output
    assert backend.db.document(activation_path(first)).get().get("status") == "done"

    second = left_running(backend, store_id, 30)
    code, output = run_tresen("sweep", "--older-than", "3600")
    assert code == 0, output
    assert re.search(r"^archived \d+ entries, 0 still failing$", output, re.MULTILINE), output
    assert re.search(r"^resumed [1-9]\d* gift-card block activations$", output, re.MULTILINE), output
    assert backend.db.document(activation_path(second)).get().get("status") == "done"
    assert len(block_cards(backend, store_id)) == 150
    assert sorted(e["data"]["chunk"] for e in chunk_entries(backend, store_id)) == [0, 0, 1]
