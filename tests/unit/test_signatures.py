import pytest

from tresen.domain.signatures import InvalidSignature, sign, verify

BODY = b'{"id": "evt_1"}'
NOW = 1_800_000_000


def test_a_fresh_signature_verifies_and_any_of_several_v1_may_match():
    verify(sign(BODY, "whsec", NOW), BODY, "whsec", NOW)
    rotated = sign(BODY, "old", NOW) + "," + sign(BODY, "whsec", NOW).split(",")[1]
    verify(rotated, BODY, "whsec", NOW)


@pytest.mark.parametrize(
    ("header", "body", "reason"),
    [
        (None, BODY, "no timestamp in the signature header"),
        ("v1=abc", BODY, "no timestamp in the signature header"),
        (sign(BODY, "whsec", NOW - 301), BODY, "timestamp too old"),
        (sign(BODY, "whsec", NOW + 61), BODY, "timestamp in the future"),
        (sign(BODY, "other", NOW), BODY, "no matching v1 signature"),
        (sign(BODY, "whsec", NOW), BODY + b" ", "no matching v1 signature"),
        (f"t={NOW}", BODY, "no matching v1 signature"),
    ],
)
def test_bad_signatures_are_refused(header, body, reason):
    with pytest.raises(InvalidSignature) as caught:
        verify(header, body, "whsec", NOW)
    assert str(caught.value) == reason


def test_timestamps_at_the_edges_are_accepted():
    verify(sign(BODY, "whsec", NOW - 300), BODY, "whsec", NOW)
    verify(sign(BODY, "whsec", NOW + 60), BODY, "whsec", NOW)
