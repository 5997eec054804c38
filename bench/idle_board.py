"""An idle staff board: the Firestore document reads it costs, counted over 10 minutes.

On a stack of its own that counts every document read (`TRESEN_COUNT_READS=1`: the storage port's
reads and the live listeners', as Firestore bills them; adapters/read_meter.py) with the production
stream lifetime (300 s), Chromium signs a member of staff in to the board, which reads its five
columns once and follows the store's live stream; then nobody touches it for 10 minutes. Counted:
the reads to start the board, and the reads of those 10 minutes — two reconnects, each the member's
roles and the listener's query that finds nothing. The hour's reads are the 10 minutes' six times:
the budget is 120 (the polling board read some 12,000). Needs Debian's chromium and Playwright, as
the browser tests do; without them the step says so and is left out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from tests.stack import RunningStack

IDLE_S = 600
BUDGET_PER_HOUR = 120
CHROMIUM_ARGS = [  # as tests/browser/conftest.py: nothing but 127.0.0.1 is reached
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
COLUMNS = 5  # the board's status queries


@dataclass(frozen=True)
class IdleBoardFigures:
    start_reads: int  # sign-in, the five columns, the first stream
    idle_reads: int  # in IDLE_S seconds after that
    streams: int  # opened in those seconds

    @property
    def per_hour(self) -> float:
        return self.idle_reads * 3600 / IDLE_S


def counted_reads(stack: RunningStack) -> tuple[int, int]:
    """(every document read so far, listeners opened so far) in the stack's server."""
    import requests

    counts = requests.get(f"{stack.url}/v1/dev/reads", timeout=10).json()
    return counts["documents"] + counts["listener_reads"], counts["listeners"]


def measure_idle_board(stack: RunningStack, progress) -> IdleBoardFigures:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="de-DE").new_page()
        columns: list[int] = []
        page.on("response", lambda response: "/orders?status=" in response.url and columns.append(response.status))
        before, _ = counted_reads(stack)
        page.goto(f"{stack.url}/staff")
        page.get_by_label("Benutzer-ID").fill("bench-board")
        page.get_by_label("Rolle").select_option("staff")
        page.locator("#sign-in button[type=submit]").click()
        page.locator("#live-status[data-state=live]").wait_for(timeout=30_000)
        while len(columns) < COLUMNS:
            page.wait_for_timeout(100)
        started, listeners = counted_reads(stack)
        for minute in range(IDLE_S // 60):
            progress(f"  idle board: minute {minute + 1} of {IDLE_S // 60}")
            page.wait_for_timeout(60_000)
        assert page.locator("#live-status").get_attribute("data-state") == "live", "the board lost its stream"
        idle, listeners_after = counted_reads(stack)
        browser.close()
    return IdleBoardFigures(started - before, idle - started, listeners_after - listeners)


def idle_board_on_its_own_stack(progress) -> IdleBoardFigures | None:
    """The measurement on a stack of its own (its reads are the board's alone), or None without a browser."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        progress("idle board: left out, Playwright for Python is not installed (pip install -e '.[dev]')")
        return None
    if shutil.which("chromium") is None:
        progress("idle board: left out, no chromium (`make test` installs Debian's)")
        return None
    with RunningStack(env={"TRESEN_COUNT_READS": "1"}) as stack:
        progress(f"idle board: a staff board left alone for {IDLE_S // 60} minutes, its document reads counted")
        return measure_idle_board(stack, progress)


def record_idle_board(figures: IdleBoardFigures | None) -> None:
    from bench.report import Ratio, add_to_results, print_table

    if figures is None:
        return
    print(
        f"idle board: {figures.start_reads} reads to start, {figures.idle_reads} reads in {IDLE_S // 60} minutes "
        f"({figures.streams} streams), {figures.per_hour:g} an hour"
    )
    ratio = Ratio(
        "idle_board_reads_per_hour",
        "idle board reads/hour (vs budget)",
        figures.per_hour,
        BUDGET_PER_HOUR,
        "reads",
        1.0,
        at_most=True,
    )
    print_table([ratio])
    add_to_results(
        {
            "idle_board_reads_to_start": figures.start_reads,
            "idle_board_reads_in_10_min": figures.idle_reads,
            "idle_board_streams_in_10_min": figures.streams,
        },
        [ratio],
    )


def main() -> int:
    """`python -m bench.idle_board`: this step alone; `--record` adds it to bench/results.json."""
    import sys

    figures = idle_board_on_its_own_stack(lambda message: print(message, flush=True))
    if figures is None:
        return 1
    if "--record" in sys.argv[1:]:
        record_idle_board(figures)
    else:
        print(f"idle board: {figures.start_reads} to start, {figures.idle_reads} in {IDLE_S // 60} minutes")
    return 0 if figures.per_hour <= BUDGET_PER_HOUR else 1


if __name__ == "__main__":
    raise SystemExit(main())
