"""The per-process cache of stores and origins: fresh within its ttl, bounded whatever keys arrive."""

from tresen.adapters.lazy import TtlCache


def test_a_value_is_loaded_once_within_its_ttl_and_again_after():
    loads = []
    cache = TtlCache(ttl=60)
    assert [cache.get("demo", lambda: loads.append(1) or len(loads)) for _ in range(3)] == [1, 1, 1]
    cache.ttl = 0
    assert cache.get("demo", lambda: loads.append(1) or len(loads)) == 2


def test_keys_from_outside_cannot_grow_it_beyond_its_limit():
    cache = TtlCache(ttl=60, limit=100)
    for n in range(1000):
        cache.get(f"made-up-{n}", lambda: None)
    assert len(cache._entries) <= 100
