"""5. Gift-card redeems: concurrent clients on many cards of one store against all on a single card."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests

from bench.client import CLIENTS, Request, Throughput, api_session, run_concurrently, staff_headers

GIFTCARD_STORE = "benchcards"  # a store of its own: no orders or webhooks share its write lock
REDEEMS = 400  # one per card on distinct cards, all on one card on the single card
REDEEM_CENTS = 1
GIFTCARD_CENTS = 10_00  # each card is sold with this, enough for every redeem of the run
GIFTCARD_WARMUP_REDEEMS = 3


def sell_giftcard(session: requests.Session, api_url: str, store_id: str, staff: dict[str, str]) -> str:
    """A new card of GIFTCARD_CENTS; returns its code."""
    response = session.post(
        f"{api_url}/v1/stores/{store_id}/giftcards",
        json={"amount": GIFTCARD_CENTS},
        headers=staff | {"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["code"]


def redeem_giftcard(session: requests.Session, api_url: str, code: str, staff: dict[str, str]) -> requests.Response:
    return session.post(
        f"{api_url}/v1/giftcards/{code}/redeem",
        json={"amount": REDEEM_CENTS},
        headers=staff | {"Idempotency-Key": str(uuid.uuid4())},
        timeout=60,
    )


def giftcard_balance(session: requests.Session, api_url: str, code: str, staff: dict[str, str]) -> int:
    response = session.get(f"{api_url}/v1/giftcards/{code}", headers=staff, timeout=60)
    response.raise_for_status()
    return response.json()["balance"]


@dataclass(frozen=True)
class Redeems:
    distinct_cards: Throughput
    single_card: Throughput
    single_card_drop_cents: int  # how much the single card's balance fell during its run

    @property
    def single_card_taken_cents(self) -> int:
        """What the single card's successful redeems took: its balance must have fallen by exactly this."""
        return (REDEEMS - self.single_card.failures) * REDEEM_CENTS

    @property
    def single_card_balance_adds_up(self) -> bool:
        return self.single_card_drop_cents == self.single_card_taken_cents


def measure_redeems(api_url: str, store_id: str) -> Redeems:
    """REDEEMS redeems by CLIENTS clients on as many cards of one store, then as many on a single card."""
    session, staff = api_session(), staff_headers(store_id)
    distinct_codes = [sell_giftcard(session, api_url, store_id, staff) for _ in range(REDEEMS)]
    single_code = sell_giftcard(session, api_url, store_id, staff)
    warm_up_code = sell_giftcard(session, api_url, store_id, staff)
    for _ in range(GIFTCARD_WARMUP_REDEEMS):
        redeem_giftcard(session, api_url, warm_up_code, staff)

    def redeem_on(codes: list[str]) -> Request:
        return lambda client_session, n: redeem_giftcard(client_session, api_url, codes[n % len(codes)], staff)

    distinct_cards = run_concurrently([redeem_on(distinct_codes)] * CLIENTS, REDEEMS, 200)
    single_card = run_concurrently([redeem_on([single_code])] * CLIENTS, REDEEMS, 200)
    drop = GIFTCARD_CENTS - giftcard_balance(session, api_url, single_code, staff)
    return Redeems(distinct_cards, single_card, drop)
