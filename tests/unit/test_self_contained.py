"""The repository stands alone: no tracked text file (code, docs, infra, web pages, tests) cites a
document that lives outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Spelt in parts, so that this file does not contain what it looks for.
OUTSIDE = ("CON" + "TRACT", "../" + "shared")
# Licence texts shipped verbatim with fonts and test data use the word in its legal sense.
VERBATIM = {"LICENSE"}


def tracked_files() -> list[Path]:
    """Tracked, and new ones git does not ignore (not committed yet)."""
    command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    try:
        listed = subprocess.run(command, cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: which files are tracked is not known")
    return [ROOT / name for name in listed.decode().split("\0") if name and Path(name).name not in VERBATIM]


def test_no_tracked_file_cites_a_document_outside_the_repository():
    citing = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):  # a font, a PDF; or deleted, not yet committed
            continue
        citing += [
            f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), start=1)
            if any(word in line for word in OUTSIDE)
        ]
    assert citing == []
