"""Schemathesis, driven by the API's own OpenAPI document, against the real API on a migrated database.

Every generated request goes through `build_api()` in-process, with the same routes, dependencies and error
handlers production mounts in front of Reflex, on SQLite and on PostgreSQL: "no route answers 5xx to any
input, and every status a route answers is one its document lists".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import status_code_conformance

from humanic_app import db, migrations
from humanic_app.api import build_api
from humanic_app.api.deps import get_db_engine
from humanic_app.db import make_engine, session_scope
from humanic_app.services import auth, sources
from humanic_app.services.campaigns import library, store
from humanic_app.settings import get_settings
from tests.support.fake_resend import FakeResend
from tests.support.postgres import create_postgres_database, drop_postgres_database, postgres_url_for

# Random examples per operation, on top of the coverage phase's boundary and invalid values (which do not
# depend on it): with them both databases together finish well inside two minutes on a shared 2-core machine.
MAX_EXAMPLES = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_engine(request, tmp_path_factory) -> Iterator:
    """One database per backend for the whole run: building one per operation would dominate the time."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'humanic.db'}"
    else:
        name = create_postgres_database()
        url = postgres_url_for(name)
    engine = make_engine(url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    try:
        yield engine
    finally:
        engine.dispose()
        if name:
            drop_postgres_database(name)


@pytest.fixture(scope="module")
def fuzz_key(fuzz_engine) -> str:
    """The fuzzer's own API key, and one row of the kinds the id routes read, so small ids reach real rows."""
    with session_scope(fuzz_engine) as session:
        _, key = auth.create_api_key(session=session, name="schemathesis")
        sources.create_source(session=session, name="Fuzzed")
        store.create_campaign(session=session, document=library.templates()["drop-off-recovery"])
    return key


@pytest.fixture(scope="module")
def fuzz_api(fuzz_engine, tmp_path_factory):
    """The webhook's writer and the background hooks use the global engine, so it points here too. Resend
    is the local fake (a fuzzed key is tested against it), and a generated secret goes to a scratch folder."""
    db.use_engine(fuzz_engine)
    api = build_api()
    api.dependency_overrides[get_db_engine] = lambda: fuzz_engine
    with FakeResend() as fake, pytest.MonkeyPatch.context() as env:
        env.setenv("RESEND_API_URL", fake.url)
        env.setenv("HUMANIC_DATA_DIR", str(tmp_path_factory.mktemp("fuzz-data")))
        get_settings.cache_clear()
        try:
            yield api
        finally:
            db.use_engine(None)
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def served_api(fuzz_api, fuzz_key):
    """A client of the app, once the document it serves at /api/v1/openapi.json, to its own key, is the one
    fuzzed here. One client for the whole run: schemathesis would otherwise start the app's lifespan anew
    for every request."""
    response = TestClient(fuzz_api).get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {fuzz_key}"})
    assert response.status_code == 200, response.text
    assert response.json() == schema.raw_schema
    with asgi.get_client(fuzz_api) as client:
        yield client


# The document is built from the routes alone, so it is loaded once at collection and gives one test per
# operation and database (schemathesis' fixture-loaded schema cannot rename pytest 9's test nodes).
# The configuration is explicit so that no schemathesis.toml changes the run. Its coverage phase sends each
# operation its boundary and invalid values deterministically; the methods a path does not have are left
# out of it because they only exercise the framework's 405, and they cost a fifth of the run.
schema = schemathesis.openapi.from_dict(
    build_api().openapi(), config=schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
)


@schema.parametrize()
# derandomize: the same examples on every run, from a seed fixed by the test; nothing is replayed from a
# local example database, so a failure here is reproduced by running the test again.
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_server_error_and_only_documented_statuses(case, served_api, fuzz_key):
    # The two promises the API makes to any input. positive_data_acceptance is not one: activate, pause,
    # cancel, retry, test-send's step and the domain routes (in local outbox mode) refuse a well-formed
    # request with a 422 when the row's state forbids it, which a schema cannot say.
    case.call_and_validate(
        session=served_api,
        headers={"Authorization": f"Bearer {fuzz_key}"},
        checks=[not_a_server_error, status_code_conformance],
    )


def test_every_route_with_a_body_documents_400():
    """A body that is not JSON answers 400 on every such route. The fuzzing above sends one only for some
    routes in some runs, so the schema is checked for it as a whole."""
    spec = build_api().openapi()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation and "400" not in operation.get("responses", {})
    ]
    assert missing == []
