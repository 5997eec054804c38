"""3. Cold start: `import main` (the Cloud Functions entry) against the libraries it cannot do without."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from tests.stack import ROOT

IMPORT_RUNS = 7
IMPORT_MAIN = "import main"
IMPORT_BASELINE = "import functions_framework, google.cloud.firestore"


def import_seconds(statement: str) -> float:
    """How long `statement` takes in a fresh interpreter, timed inside it (interpreter start excluded).

    main.py lives beside the package in functions/, as when deployed: the child finds it there."""
    program = (
        "import time, sys; sys.path.insert(0, 'functions'); "
        f"t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, "TRESEN_ENV": "dev"}
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def median_import_seconds() -> tuple[float, float]:
    """(main, baseline); the runs alternate so that a slow spell of the machine hits both alike."""
    main_runs, baseline_runs = [], []
    for _ in range(IMPORT_RUNS):
        main_runs.append(import_seconds(IMPORT_MAIN))
        baseline_runs.append(import_seconds(IMPORT_BASELINE))
    return statistics.median(main_runs), statistics.median(baseline_runs)
