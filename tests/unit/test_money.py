from hypothesis import given
from hypothesis import strategies as st

from tresen.domain.money import net_of, vat_breakdown


def test_net_is_rounded_half_up_to_the_cent():
    assert net_of(107, 7) == 100
    assert net_of(119, 19) == 100
    assert net_of(430, 19) == 361  # 361.34 → 361
    assert net_of(1600, 7) == 1495  # 1495.33 → 1495
    assert net_of(1, 19) == 1  # 0.84 → 1
    assert net_of(0, 7) == 0


def test_vat_is_split_once_per_rate_over_the_summed_gross():
    lines = vat_breakdown([("19", 430), ("7", 800), ("7", 800)])
    assert [(v.rate, v.net, v.tax, v.gross) for v in lines] == [("7", 1495, 105, 1600), ("19", 361, 69, 430)]


amounts = st.lists(st.tuples(st.sampled_from(["7", "19"]), st.integers(0, 10_000_000)), max_size=50)


@given(amounts)
def test_vat_lines_add_up_to_the_cent(items):
    lines = vat_breakdown(items)
    assert sum(v.gross for v in lines) == sum(gross for _, gross in items)
    for v in lines:
        assert v.net + v.tax == v.gross
        assert 0 <= v.tax <= v.gross
        exact_net = v.gross * 100 / (100 + int(v.rate))
        assert abs(v.net - exact_net) <= 0.5
