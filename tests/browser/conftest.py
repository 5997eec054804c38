"""The web pages driven in headless Chromium (Debian's `chromium`, which `make` installs) by Playwright.

The pages are served by a real `tresen dev` stack, as `make run` serves them, with a Stripe test key:
Stripe is played by the stack's local stand-in. Screenshots go to `artifacts/screenshots/` (or
`$TRESEN_ARTIFACTS/screenshots/`) for a person to look at. The accessibility tests run axe-core (npm,
`make test` installs it into node_modules/) inside the pages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from stack import ROOT, TRESEN, RunningStack

CHROMIUM = os.environ.get("TRESEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking switches Chromium keeps trying Google's hosts, which this sandboxed
# network refuses; the tests talk to 127.0.0.1 only.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
ARTIFACTS = Path(os.environ.get("TRESEN_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
STRIPE_KEY = "sk_test_demo"  # a test key: `tresen dev` plays Stripe with its stand-in

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    reason = None
    if not CHROMIUM:
        reason = "no Chromium: `make test` installs Debian's chromium where apt-get may run"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
    no_axe = None if AXE.is_file() else "no axe-core: `make test` installs it from npm (npm ci) into node_modules/"
    for item in items:
        if "tests/browser/" in str(item.fspath) and reason:
            item.add_marker(pytest.mark.skip(reason=reason))
        elif "axe" in getattr(item, "fixturenames", ()) and no_axe:
            item.add_marker(pytest.mark.skip(reason=no_axe))


@pytest.fixture(scope="session")
def playwright_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def web_stack():
    """One `tresen dev` for every browser test: the demo store, pages at `/` and `/staff`. With a Stripe
    test key it also plays Stripe (`stack.stripe_url`): the demo store's connected account is onboarded
    at start and the store takes online payments with the sandbox (its default) and Stripe."""
    with RunningStack(env={"STRIPE_API_KEY": STRIPE_KEY}) as stack:
        offered = requests.get(f"{stack.url}/v1/stores/demo/menu", timeout=10).json()["store"]["online_providers"]
        assert offered == ["sandbox", "stripe"], stack.output_tail()  # from the ready line on
        yield stack


@pytest.fixture(scope="session")
def axe() -> Path:
    """axe-core's script, for `page.add_script_tag(path=...)` (tests using it are skipped without it)."""
    return AXE


def new_page(browser, size: dict, locale: str = "de-DE"):
    context = browser.new_context(viewport=size, locale=locale)
    context.set_default_timeout(15_000)
    return context.new_page()


def watched(page) -> list[str]:
    """What went wrong inside the page that no assertion on its content would see: uncaught
    exceptions and anything the Content-Security-Policy blocked."""
    faults: list[str] = []
    page.on("pageerror", lambda error: faults.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and faults.append(f"CSP: {message.text}"),
    )
    return faults


@contextmanager
def watched_page(browser, size: dict):
    """A page of its own; it fails the test at the end if anything went wrong inside it."""
    page = new_page(browser, size)
    faults = watched(page)
    yield page
    page.context.close()
    assert faults == []


@pytest.fixture
def phone(playwright_browser):
    with watched_page(playwright_browser, PHONE) as page:
        yield page


@pytest.fixture
def tablet(playwright_browser):
    with watched_page(playwright_browser, TABLET) as page:
        yield page


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def pages(playwright_browser):
    """Pages of their own (CSP bypassed for axe-core); the test fails if anything went wrong inside one."""
    from test_accessibility import open_page  # the pages axe-core audits

    opened = []

    def page_at(size: dict):
        page, faults = open_page(playwright_browser, size)
        opened.append((page, faults))
        return page

    yield page_at
    for page, _ in opened:
        page.context.close()
    assert [fault for _, faults in opened for fault in faults] == []


def load_store(stack: RunningStack, definition: dict, directory: Path) -> str:
    """A store and its menu loaded as a merchant does (`tresen store FILE`): its id."""
    store_file = directory / "store.json"
    store_file.write_text(json.dumps(definition))
    subprocess.run([str(TRESEN), "store", str(store_file)], env=stack.cli_env, check=True, capture_output=True)
    return definition["store"]["id"]
