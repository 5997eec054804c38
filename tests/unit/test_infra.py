"""The deployment's promises, checked on infra/ without a cloud: every .tf parses, `terraform fmt`
agrees where a terraform binary exists, and the checks of tests/infra_checks.py hold — and fail on
a copy of the Terraform with a promise broken."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from infra_checks import ROOT, broken_promises, entry_points, load

INFRA = ROOT / "infra"
SCHEDULER = "serviceAccount:${google_service_account.scheduler.email}"


def test_every_terraform_file_parses_and_the_promises_hold():
    assert sorted(path.name for path in INFRA.glob("*.tf")) == [
        "firestore.tf", "functions.tf", "kms.tf", "main.tf", "monitoring.tf", "outputs.tf", "scheduler.tf",
        "secrets.tf", "storage.tf", "variables.tf", "versions.tf",
    ]  # fmt: skip
    assert load(INFRA)["terraform"]
    assert broken_promises(INFRA) == []
    assert entry_points() == {"customer_api", "staff_api", "webhooks", "exports", "jobs"}


def test_the_google_provider_is_pinned():
    [terraform] = load(INFRA)["terraform"]
    [providers] = terraform["required_providers"]
    assert providers["google"]["version"].strip('"').startswith("= ")


def test_each_index_of_the_file_gets_its_own_terraform_key():
    """firestore.tf keys indexes by collection and fields: two indexes must never share a key."""
    indexes = json.loads((ROOT / "firestore.indexes.json").read_text())["indexes"]
    keys = {
        (i["collectionGroup"], tuple((f["fieldPath"], f.get("order", f.get("arrayConfig", ""))) for f in i["fields"]))
        for i in indexes
    }
    assert len(keys) == len(indexes) > 0


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary on this machine")
def test_terraform_fmt_agrees():
    result = subprocess.run(["terraform", "fmt", "-check", "-recursive", str(INFRA)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is installed by `make test` in .venv-checkov")
def test_checkov_passes_with_each_skip_justified():
    result = subprocess.run(
        [str(CHECKOV), "-d", str(INFRA), "--framework", "terraform", "--skip-download", "--compact", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    for path in INFRA.glob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert len(line.split(":", 2)[2].strip()) > 20, f"{path.name}: a skip needs its reason: {line}"


BREAKS = {
    "the lock removed": ("storage.tf", "is_locked        = var.lock_archive", "is_locked        = false",
                         "the archive's retention lock must be set by var.lock_archive"),
    "a public invoker on jobs": ("functions.tf", f'member   = "{SCHEDULER}"', 'member   = "allUsers"',
                                 "allUsers may invoke only public functions"),
    "a short retention": ("variables.tf", "default     = 11", "default     = 5",
                          "var.archive_retention_years must default to and be validated as >= 11"),
    "another region": ("variables.tf", 'default     = "europe-west3"', 'default     = "us-central1"',
                       "var.region must default to and be validated as europe-west3"),
    "a secret in plain sight": ("functions.tf", 'TRESEN_PUBLIC_URL     = var.public_url',
                                'TRESEN_PUBLIC_URL     = var.public_url\n      STRIPE_API_KEY = "sk_live_x"',
                                "STRIPE_API_KEY must come from Secret Manager"),
    "a secret the exports do not use": ("main.tf", "secrets = []", 'secrets = ["stripe-api-key"]',
                                        "exports must be given exactly the secrets its start-up guard requires"),
    "an unprotected database": ("firestore.tf", '"DELETE_PROTECTION_ENABLED"', '"DELETE_PROTECTION_DISABLED"',
                                "Firestore must have delete protection"),
    "exports without the pages' origins": ("main.tf", "secrets = [], web = true", "secrets = [], web = false",
                                           "the pages' origins must reach exactly the functions they call"),
    "an origin not from web_origins": ("functions.tf", 'join(",", var.web_origins)', '"https://evil.example"',
                                       "TRESEN_WEB_ORIGINS must be var.web_origins"),
    "an origin with a path": ("environments/staging.tfvars", '"https://staging.tresen.example"]',
                              '"https://staging.tresen.example/"]',
                              "staging.tfvars: TRESEN_WEB_ORIGINS must list origins"),
    "a delete right on the archive": ("storage.tf", '"roles/storage.objectViewer"', '"roles/storage.objectAdmin"',
                                      "the runtime may only create and read"),
}  # fmt: skip


@pytest.mark.parametrize("name", BREAKS)
def test_a_broken_promise_is_named(tmp_path, name):
    file, before, after, message = BREAKS[name]
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    text = (copy / file).read_text()
    assert before in text, (file, before)
    (copy / file).write_text(text.replace(before, after))
    assert any(message in broken for broken in broken_promises(copy)), broken_promises(copy)


def test_production_locks_and_staging_does_not():
    from infra_checks import tfvars

    assert (tfvars(INFRA, "production")["lock_archive"], tfvars(INFRA, "staging")["lock_archive"]) == (True, False)
