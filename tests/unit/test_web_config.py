"""`tresen web-config`: web/config.js for Firebase Hosting, from the deployed functions' URLs."""

from __future__ import annotations

import pytest

from tresen import cli

CUSTOMER = "https://tresen-customer-api-abc123-ey.a.run.app"
STAFF = "https://tresen-staff-api-abc123-ey.a.run.app"
EXPORTS = "https://europe-west3-tresen-prod.cloudfunctions.net/tresen-exports"
KEY = "AIzaSyD-example_key0123456789abcdefghijk"


def web_config(tmp_path, **overrides) -> list[str]:
    given = {"customer-url": CUSTOMER, "staff-url": STAFF, "exports-url": EXPORTS, "firebase-api-key": KEY}
    given |= overrides
    args = [f"--{name}={value}" for name, value in given.items()]
    return ["web-config", *args, "--output", str(tmp_path / "config.js")]


def test_it_writes_the_pages_config_with_each_value_json_encoded(tmp_path, capsys):
    assert cli.main(web_config(tmp_path)) == 0
    assert (tmp_path / "config.js").read_text() == (
        "// Where the pages find the API: written by `tresen web-config` from the deployed functions' URLs.\n"
        '// `git checkout web/config.js` brings back the dev defaults ("" = the same origin, as `tresen dev` serves).\n'
        "window.TRESEN_CONFIG = {\n"
        '  customerApi: "https://tresen-customer-api-abc123-ey.a.run.app",\n'
        '  staffApi: "https://tresen-staff-api-abc123-ey.a.run.app",\n'
        '  exportsApi: "https://europe-west3-tresen-prod.cloudfunctions.net/tresen-exports",\n'
        '  firebase: {"apiKey": "AIzaSyD-example_key0123456789abcdefghijk"},\n'
        "};\n"
    )
    assert capsys.readouterr().out == f"wrote {tmp_path / 'config.js'}\n"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("customer-url", CUSTOMER + "/"),
        ("customer-url", "http://tresen-customer-api-abc123-ey.a.run.app"),
        ("staff-url", "tresen-staff-api-abc123-ey.a.run.app"),
        ("staff-url", STAFF + "?x=1"),
        ("exports-url", EXPORTS + "#x"),
        ("exports-url", 'https://x.example/";alert(1);"'),
        ("exports-url", "https://user@x.example"),
        ("customer-url", ""),
    ],
)
def test_a_url_that_is_not_an_https_url_without_a_trailing_slash_is_refused(tmp_path, capsys, flag, value):
    assert cli.main(web_config(tmp_path, **{flag: value})) == 2
    assert capsys.readouterr().err == (
        f"tresen: --{flag} must be an https URL without a trailing slash, not {value!r}\n"
    )
    assert not (tmp_path / "config.js").exists()


@pytest.mark.parametrize("key", ["", 'AIza"};alert(1);//', "AIza key", "AIza\n"])
def test_a_firebase_api_key_of_another_shape_is_refused(tmp_path, capsys, key):
    assert cli.main(web_config(tmp_path, **{"firebase-api-key": key})) == 2
    assert capsys.readouterr().err == (
        "tresen: --firebase-api-key must be the Firebase project's Web API key (letters, digits, - and _)\n"
    )
    assert not (tmp_path / "config.js").exists()


def test_an_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    args = web_config(tmp_path)
    args[-1] = str(tmp_path / "missing" / "config.js")
    assert cli.main(args) == 2
    assert capsys.readouterr().err.startswith(f"tresen: {tmp_path / 'missing' / 'config.js'}: ")
