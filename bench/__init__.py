"""Performance benchmark: `make bench` (`python -m bench.run` from the repository root).

Every figure is judged as a ratio against a baseline measured in the same run on the same machine,
so the verdicts hold on a laptop and on a slow CI box alike. Absolute numbers are printed for
reading, never compared with a fixed threshold.

1. latency:    order placement p50 vs one Firestore document write p50     (target <= 6)
2. throughput: 8 clients on one store vs 8 clients on 8 stores, orders/s    (target >= 0.5)
3. cold start: `import main` vs importing functions_framework + Firestore   (target <= 1.25)
4. webhook storm: ~500 shuffled, duplicated deliveries by 8 senders: deliveries/s and p95 (printed)
5. gift cards:  400 redeems by 8 clients on 1 card vs on 400 cards of one store: redeems/s, p95 and
                their ratio (printed; both go through the store's one commit lane, so expect similar figures),
                and the single card's balance must drop by exactly what the redeems took

Each later module has its own docstring and targets (closings, statements, exports, webhooks,
positions, stock, and instances.py: one busy store over 1, 2, 4 and 8 API processes).

The API is started the way a user starts it (`tresen dev`, by tests/stack.py, which the e2e tests use
too) and everything talks to 127.0.0.1 only. Results go to bench/results.json.

One module per benchmark; client.py holds how they talk to the API, report.py the verdicts, run.py the
order they run in.
"""

import sys
import types
from pathlib import Path

# paypal-server-sdk's apimatic-core installs a top-level `tests` package into site-packages, and a
# regular package wins over this repository's `tests/` (a namespace package) wherever it stands on
# sys.path: the benchmarks' `tests.stack` and the rest must be the repository's own.
_repository_tests = types.ModuleType("tests")
_repository_tests.__path__ = [str(Path(__file__).resolve().parents[1] / "tests")]
sys.modules["tests"] = _repository_tests
