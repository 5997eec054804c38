"""The local dev signing key: created once, owner-only, and the same for every process after."""

from __future__ import annotations

import stat

from tresen.adapters.signers import KEY_FILE, local_signer
from tresen.domain.signed_note import open_note, sign_note


def test_the_local_key_is_created_once_and_read_back_by_the_next_process(tmp_path):
    first = local_signer(tmp_path / "data", "tresen/demo")
    second = local_signer(tmp_path / "data", "tresen/demo")
    assert first.verifier == second.verifier
    assert stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode) == 0o600
    assert (tmp_path / "data" / KEY_FILE).read_text().startswith("PRIVATE+KEY+tresen/demo+")
    note = sign_note("hello\n", "tresen/demo", second.sign, second.verifier.key_id)
    assert open_note(note, [first.verifier]).text == "hello\n"


def test_without_a_directory_each_signer_has_its_own_key():
    assert local_signer(None, "tresen/demo").verifier != local_signer(None, "tresen/demo").verifier
