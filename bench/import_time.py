"""3. Cold start: `import main` (the Cloud Functions entry) against the libraries it cannot do without.

Measured as deployed: Google's build for Python functions compiles the source to bytecode
(`python3 -m compileall`), and Cloud Run names the function's entry point in FUNCTION_TARGET, so
`main` loads that entry's routes while it is imported. Each entry point is timed; customer_api is
the one a customer waits on."""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys

from tests.stack import ROOT

IMPORT_RUNS = 7
IMPORT_MAIN = "import main"
IMPORT_BASELINE = "import functions_framework, google.cloud.firestore"
ENTRIES = ("customer_api", "staff_api", "webhooks", "exports", "jobs")


def import_seconds(statement: str, entry: str | None = None) -> float:
    """How long `statement` takes in a fresh interpreter, timed inside it (interpreter start excluded).

    main.py lives beside the package in functions/, as when deployed: the child finds it there."""
    program = (
        "import time, sys; sys.path.insert(0, 'functions'); "
        f"t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, "TRESEN_ENV": "dev"}
    env.pop("FUNCTION_TARGET", None)
    if entry:
        env["FUNCTION_TARGET"] = entry
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def median_import_seconds() -> tuple[dict[str, float], float]:
    """({entry: main}, baseline); the runs alternate so that a slow spell of the machine hits all alike."""
    compileall.compile_dir(ROOT / "functions", quiet=1, force=True)
    main_runs: dict[str, list[float]] = {entry: [] for entry in ENTRIES}
    baseline_runs = []
    for _ in range(IMPORT_RUNS):
        for entry in ENTRIES:
            main_runs[entry].append(import_seconds(IMPORT_MAIN, entry))
        baseline_runs.append(import_seconds(IMPORT_BASELINE))
    return {entry: statistics.median(runs) for entry, runs in main_runs.items()}, statistics.median(baseline_runs)
