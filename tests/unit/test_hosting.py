"""firebase.json's `hosting`: what Firebase Hosting serves of web/ and with which headers. Header
rules match the request's path (with cleanUrls a page is asked for without .html), and where two
rules set one header the later one's value is served, so the no-cache rule comes last."""

from __future__ import annotations

import json
import re

import pytest

from stack import ROOT

FIREBASE = json.loads((ROOT / "firebase.json").read_text())
HOSTING = FIREBASE["hosting"]


def served_headers(path: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for rule in HOSTING["headers"]:
        # "**" is the only glob used; every other rule is an RE2 regex that Python reads alike
        if rule.get("source") == "**" or re.search(rule.get("regex", "(?!)"), path):
            headers |= {header["key"]: header["value"] for header in rule["headers"]}
    return headers


def test_the_pages_are_served_from_web_with_clean_urls_beside_the_firestore_settings():
    assert (HOSTING["public"], HOSTING["cleanUrls"]) == ("web", True)
    assert HOSTING["ignore"] == ["firebase.json", "**/.*", "**/node_modules/**"]
    assert FIREBASE["firestore"] == {"rules": "firestore.rules", "indexes": "firestore.indexes.json"}
    assert FIREBASE["emulators"]["firestore"] == {"host": "127.0.0.1", "port": 8181}


@pytest.mark.parametrize(
    ("path", "cache"),
    [
        ("/", "no-cache"),
        ("/staff", "no-cache"),
        ("/staff.html", "no-cache"),
        ("/config.js", "no-cache"),
        ("/staff.js", "public, max-age=86400"),
        ("/common.js", "public, max-age=86400"),
        ("/lib/config.js", "public, max-age=86400"),
        ("/style.css", "public, max-age=86400"),
    ],
)
def test_pages_and_their_config_are_revalidated_scripts_and_styles_cached(path, cache):
    assert served_headers(path) == {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }
