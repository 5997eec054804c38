from dataclasses import replace
from datetime import UTC, date, datetime

from tresen.services.seed import DEMO_STORE

HOURS = {"mon": [("08:00", "12:00"), ("14:00", "18:00")]}


def test_opening_hours_are_read_in_store_time():
    store = replace(DEMO_STORE, opening_hours=HOURS)
    # 2026-11-23 is a Monday; Berlin is UTC+1 in November.
    assert store.is_open(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # 08:00 local
    assert not store.is_open(datetime(2026, 11, 23, 11, 30, tzinfo=UTC))  # 12:30 local, lunch break
    assert not store.is_open(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # Tuesday
    assert DEMO_STORE.is_open(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))  # always open


def test_business_day_turns_at_five_in_the_morning_store_time():
    assert DEMO_STORE.business_day(datetime(2026, 11, 23, 3, 59, tzinfo=UTC)) == date(2026, 11, 22)  # 04:59
    assert DEMO_STORE.business_day(datetime(2026, 11, 23, 4, 0, tzinfo=UTC)) == date(2026, 11, 23)  # 05:00
    assert DEMO_STORE.business_day(datetime(2026, 7, 1, 2, 59, tzinfo=UTC)) == date(2026, 6, 30)  # 04:59 CEST
