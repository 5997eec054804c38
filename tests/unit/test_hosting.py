"""firebase.json's `hosting`: what Firebase Hosting serves of web/ and with which headers. Every file
is revalidated (`no-cache`: a 304 when unchanged): the pages' files are not versioned by name, so a
cached script could otherwise run under a newer page after a deploy, and all of them are 90 KB."""

from __future__ import annotations

import json

from stack import ROOT

FIREBASE = json.loads((ROOT / "firebase.json").read_text())
HOSTING = FIREBASE["hosting"]


def test_the_pages_are_served_from_web_with_clean_urls_beside_the_firestore_settings():
    assert (HOSTING["public"], HOSTING["cleanUrls"]) == ("web", True)
    assert HOSTING["ignore"] == ["firebase.json", "**/.*", "**/node_modules/**"]
    assert FIREBASE["firestore"] == {"rules": "firestore.rules", "indexes": "firestore.indexes.json"}
    assert FIREBASE["emulators"]["firestore"] == {"host": "127.0.0.1", "port": 8181}


def test_every_file_is_revalidated():
    assert HOSTING["headers"] == [
        {
            "source": "**",
            "headers": [
                {"key": "Cache-Control", "value": "no-cache"},
                {"key": "X-Content-Type-Options", "value": "nosniff"},
                {"key": "Referrer-Policy", "value": "no-referrer"},
            ],
        }
    ]


def test_the_dev_server_answers_each_page_at_the_clean_url_hosting_gives_it():
    """`tresen dev` maps a page's address to its file as `cleanUrls` does: /portal → portal.html."""
    from tresen.webserver import PAGES, WEB

    assert PAGES == {"/": "/index.html", "/staff": "/staff.html", "/portal": "/portal.html", "/driver": "/driver.html"}
    assert all((WEB / file.lstrip("/")).is_file() for file in PAGES.values())
    assert all(file == f"{path}.html" for path, file in PAGES.items() if path != "/")
