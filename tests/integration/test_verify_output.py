"""`tresen verify` prints its findings and nothing else: it reads the archive back with many threads
at once, and the storage client keeps a connection for each (no urllib3 "Connection pool is full,
discarding connection" warnings among the findings)."""

from __future__ import annotations

import os
import subprocess

from stack import ROOT, TRESEN
from support import idem, order_body
from tresen.adapters.archive import DOWNLOADS


def test_verify_reading_the_archive_with_all_its_threads_prints_only_its_findings(client, store_id, backend):
    orders = 3 * DOWNLOADS  # each one entry, each entry one object: every thread has several to fetch
    for _ in range(orders):
        placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
        assert placed.status_code == 201, placed.get_data(as_text=True)
    backend.archive.drain()
    done = subprocess.run(
        [str(TRESEN), "verify", "--store", store_id],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, f"{store_id}: {orders} entries, 0 checkpoints, ok\n"), done.stderr
    assert "Connection pool is full" not in done.stderr
    assert "urllib3" not in done.stderr
