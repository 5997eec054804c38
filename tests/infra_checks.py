"""The promises of the deployment (docs/operations.md, docs/architecture.md) checked on the Terraform in a
directory without any cloud: `broken_promises(infra)` names each one that does not hold.

The Terraform is read with python-hcl2 (expressions stay text, strings keep their quotes), so the
checks look at what is written — a literal, or the variable it comes from and that variable's
default, validation and per-environment value.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import hcl2

from tresen.config import SECRETS, SECRETS_OF_ENTRY, ConfigError, web_origins

ROOT = Path(__file__).resolve().parents[1]
REGION = "europe-west3"
MIN_RETENTION_YEARS = 11
SECONDS_PER_YEAR = 365 * 24 * 60 * 60
# The functions the web pages call from the browser (web/config.js: customerApi, staffApi, exportsApi)
WEB_ENTRY_POINTS = {"customer_api", "staff_api", "exports"}
WEB_ORIGINS_ENV = 'each.value.web ? {TRESEN_WEB_ORIGINS = join(",", var.web_origins)} : {}'


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load(infra: Path) -> dict[str, list]:
    merged: dict[str, list] = {}
    for path in sorted(infra.glob("*.tf")):
        with path.open() as file:
            for block, items in hcl2.load(file).items():
                merged.setdefault(block, []).extend(items)
    return merged


def resources(tf: dict[str, list], kind: str) -> dict[str, dict]:
    found = {}
    for item in tf.get("resource", []):
        for resource_type, named in item.items():
            if unquote(resource_type) == kind:
                found.update({unquote(name): body for name, body in named.items()})
    return found


def variables(tf: dict[str, list]) -> dict[str, dict]:
    return {unquote(name): body for item in tf.get("variable", []) for name, body in item.items()}


def locals_of(tf: dict[str, list]) -> dict[str, Any]:
    return {name: value for item in tf.get("locals", []) for name, value in item.items()}


def tfvars(infra: Path, environment: str) -> dict[str, Any]:
    with (infra / "environments" / f"{environment}.tfvars").open() as file:
        return {name: unquote(value) for name, value in hcl2.load(file).items()}


def entry_points() -> set[str]:
    """The deployable functions of functions/main.py: every functions-framework function but `dev`."""
    tree = ast.parse((ROOT / "functions" / "main.py").read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("functions_framework" in ast.unparse(d) for d in node.decorator_list)
        and node.name != "dev"
    }


def broken_promises(infra: Path) -> list[str]:
    tf = load(infra)
    broken: list[str] = []
    variable = variables(tf)
    region = variable.get("region", {})
    if unquote(region.get("default")) != REGION or REGION not in json.dumps(region.get("validation", [])):
        broken.append(f"var.region must default to and be validated as {REGION}")
    for kind, named in ((k, v) for item in tf.get("resource", []) for k, v in item.items()):
        for name, body in named.items():
            for key in ("location", "location_id", "region"):
                value = str(body.get(key, "${var.region}"))
                if "var.region" not in value and REGION not in value.lower():
                    broken.append(f"{unquote(kind)}.{unquote(name)}: {key} {value} is not {REGION}")
    broken += archive_promises(tf, variable, infra)
    broken += function_promises(tf)
    broken += web_promises(tf, variable, infra)
    broken += firestore_promises(tf)
    return broken


def archive_promises(tf: dict, variable: dict, infra: Path) -> list[str]:
    archive = resources(tf, "google_storage_bucket").get("archive")
    if archive is None:
        return ["no archive bucket (google_storage_bucket.archive)"]
    broken = []
    if archive.get("uniform_bucket_level_access") is not True:
        broken.append("the archive bucket must have uniform bucket-level access")
    if unquote(archive.get("public_access_prevention")) != "enforced":
        broken.append("the archive bucket must enforce public access prevention")
    if any(block.get("enabled") is not False for block in archive.get("versioning", [])):
        broken.append("the archive bucket must not keep versions")
    [policy] = archive.get("retention_policy") or [{}]
    period = str(policy.get("retention_period", ""))
    years = variable.get("archive_retention_years", {})
    if "var.archive_retention_years * 365 * 24 * 60 * 60" not in period:
        literal = re.fullmatch(r"\d+", period)
        if not literal or int(period) < MIN_RETENTION_YEARS * SECONDS_PER_YEAR:
            broken.append("the archive's retention must be at least 11 years")
    elif (years.get("default") or 0) < MIN_RETENTION_YEARS or f">= {MIN_RETENTION_YEARS}" not in json.dumps(
        years.get("validation", [])
    ):
        broken.append("var.archive_retention_years must default to and be validated as >= 11")
    if policy.get("is_locked") != "${var.lock_archive}":
        broken.append("the archive's retention lock must be set by var.lock_archive")
    if tfvars(infra, "production").get("lock_archive") is not True:
        broken.append("production must lock the archive's retention policy")
    for name, member in resources(tf, "google_storage_bucket_iam_member").items():
        role = unquote(member.get("role"))
        if role not in ("roles/storage.objectCreator", "roles/storage.objectViewer"):
            broken.append(f"google_storage_bucket_iam_member.{name}: the runtime may only create and read ({role})")
    return broken


def function_promises(tf: dict) -> list[str]:
    broken = []
    declared = locals_of(tf).get("entry_points", {})
    missing = entry_points() - set(declared)
    if missing:
        broken.append(f"entry points of functions/main.py not deployed: {sorted(missing)}")
    if declared.get("jobs", {}).get("public") is not False:
        broken.append("the jobs function must not be public")
    functions = resources(tf, "google_cloudfunctions2_function").get("entry", {})
    [service] = functions.get("service_config") or [{}]
    if service.get("service_account_email") != "${google_service_account.function[each.key].email}":
        broken.append("every function must run as its own service account")
    accounts = resources(tf, "google_service_account").get("function", {})
    if accounts.get("for_each") != "${local.entry_points}":
        broken.append("one service account per entry point")
    plain = service.get("environment_variables", {})
    for secret in SECRETS:
        if secret in plain:
            broken.append(f"{secret} must come from Secret Manager, not a plain environment variable")
    mounted = {unquote(secret): unquote(env) for secret, env in locals_of(tf).get("secret_env", {}).items()}
    if set(mounted.values()) != set(SECRETS):
        broken.append("every secret must be mounted from Secret Manager")
    for name, entry in declared.items():
        given = {mounted.get(unquote(secret)) for secret in entry.get("secrets", [])}
        if given != set(SECRETS_OF_ENTRY.get(name, SECRETS)):
            broken.append(f"{name} must be given exactly the secrets its start-up guard requires, not {sorted(given)}")
    for name, member in resources(tf, "google_cloud_run_service_iam_member").items():
        public = unquote(member.get("member")) == "allUsers"
        on_jobs = '["jobs"]' in str(member.get("service"))
        if public and (on_jobs or "entry.public" not in str(member.get("for_each"))):
            broken.append(f"google_cloud_run_service_iam_member.{name}: allUsers may invoke only public functions")
        if on_jobs and unquote(member.get("member")) != "serviceAccount:${google_service_account.scheduler.email}":
            broken.append(f"google_cloud_run_service_iam_member.{name}: only the scheduler may invoke jobs")
    return broken


def web_promises(tf: dict, variable: dict, infra: Path) -> list[str]:
    """The pages' origins reach the functions the pages call as TRESEN_WEB_ORIGINS, and each
    environment lists origins those functions accept (else they refuse to start)."""
    broken = []
    web = {name for name, entry in locals_of(tf).get("entry_points", {}).items() if entry.get("web") is True}
    if web != WEB_ENTRY_POINTS:
        broken.append(f"the pages' origins must reach exactly the functions they call, not {sorted(web)}")
    [service] = resources(tf, "google_cloudfunctions2_function").get("entry", {}).get("service_config") or [{}]
    if WEB_ORIGINS_ENV not in str(service.get("environment_variables")):
        broken.append("TRESEN_WEB_ORIGINS must be var.web_origins joined by commas, on the functions the pages call")
    if variable.get("web_origins", {}).get("default") != []:
        broken.append("var.web_origins must default to none")
    for environment in ("production", "staging"):
        listed = [unquote(origin) for origin in tfvars(infra, environment).get("web_origins", [])]
        try:
            web_origins(",".join(listed))
        except ConfigError as error:
            broken.append(f"{environment}.tfvars: {error}")
    return broken


def firestore_promises(tf: dict) -> list[str]:
    broken = []
    [database] = resources(tf, "google_firestore_database").values() or [{}]
    if unquote(database.get("point_in_time_recovery_enablement")) != "POINT_IN_TIME_RECOVERY_ENABLED":
        broken.append("Firestore must have point-in-time recovery")
    if unquote(database.get("delete_protection_state")) != "DELETE_PROTECTION_ENABLED":
        broken.append("Firestore must have delete protection")
    source = str(locals_of(tf).get("firestore"))
    if "firestore.indexes.json" not in source:
        broken.append("indexes and TTL fields must be read from firestore.indexes.json")
    if resources(tf, "google_firestore_index").get("composite", {}).get("for_each") != "${local.indexes}":
        broken.append("every index of firestore.indexes.json must be created")
    if resources(tf, "google_firestore_field").get("override", {}).get("for_each") != "${local.field_overrides}":
        broken.append("every field override (TTL) of firestore.indexes.json must be created")
    rules = resources(tf, "google_firebaserules_ruleset").get("firestore")
    if rules is None or "firestore.rules" not in json.dumps(rules):
        broken.append("the rules of firestore.rules must be released")
    return broken
