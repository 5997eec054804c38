"""Each deployed function serves only its own routes; jobs trust their caller only where private."""

from dataclasses import replace

import pytest
from werkzeug.test import EnvironBuilder

from tresen.config import settings
from tresen.http import app
from tresen.http.problems import ApiProblem
from tresen.http.router import ROUTES


def routes_of(entry):
    return {(r.method, r.path) for r in app.router(entry).routes}


def test_entry_points_split_the_routes():
    api, webhooks, jobs = routes_of("api"), routes_of("webhooks"), routes_of("jobs")
    assert ("POST", "/v1/stores/{store}/orders") in api
    assert ("POST", "/v1/webhooks/{provider}") in webhooks and ("POST", "/v1/webhooks/{provider}") not in api
    assert ("POST", "/v1/jobs/expire-orders") in jobs and ("POST", "/v1/jobs/expire-orders") not in api
    assert ("GET", "/v1/health") in api & webhooks & jobs
    assert api | webhooks | jobs == {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize(("trusted", "allowed"), [(False, False), (True, True)])
def test_in_production_only_the_private_jobs_function_runs_jobs(monkeypatch, trusted, allowed):
    monkeypatch.setattr(app, "settings", lambda: replace(settings(), env="prod"))
    job = next(r for r in ROUTES if r.tag == "jobs")
    request = EnvironBuilder(path=job.path, method="POST").get_request()
    services = app.HttpServices(jobs_trusted=trusted)
    if allowed:
        assert services.authenticate(request, job, {}).kind == "system"
    else:
        with pytest.raises(ApiProblem) as caught:
            services.authenticate(request, job, {})
        assert caught.value.code == "not_found"
