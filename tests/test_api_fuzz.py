"""Schemathesis against the API's own OpenAPI document: no 5xx, responses match the schema.

A bounded number of examples per operation keeps it fast. Each operation runs on a fresh
database holding a few topics and jobs, so that generated job ids sometimes exist.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from jobcore.access import Role
from jobcore.api import create_app, hash_token
from jobcore.jobs import drive, runner

TOKEN = "fuzz-token-0123456789abcdef0123456789abcdef"
app = create_app(tokens={hash_token(TOKEN): ("fuzzer", Role.ADMIN)})
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def api_database(engine, many_topics):
    many_topics(20)
    done = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(done.id, engine=engine)
    runner.create_job("reclassify", {"force": True}, engine=engine)
    app.state.engine = engine
    yield engine
    app.state.engine = None


# Every check but one: a request the schema allows may still be refused with 422 by a rule
# the schema cannot express (a parent category that does not exist, a mode not available yet,
# rollbackOf combined with force), so "schema-valid data is accepted" does not hold by design.
EXCLUDED = [schemathesis.specs.openapi.checks.positive_data_acceptance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_holds_its_contract(case, api_database):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=EXCLUDED)
