"""The real HTTP API, through Starlette's test client, on a migrated database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import resend
from fastapi.testclient import TestClient

from humanic_app.api import build_api
from humanic_app.api.deps import get_db_engine
from humanic_app.db import session_scope
from humanic_app.services import auth
from humanic_app.settings import get_settings
from tests.support.fake_resend import FakeResend


@pytest.fixture
def client(engine) -> Iterator[TestClient]:
    """The app's global engine is pointed at the test database, as the webhook's writer uses it."""
    from humanic_app import db

    db.use_engine(engine)
    api = build_api()
    api.dependency_overrides[get_db_engine] = lambda: engine
    try:
        with TestClient(api) as test_client:
            yield test_client
    finally:
        db.use_engine(None)


@pytest.fixture
def api_key(engine) -> str:
    with session_scope(engine) as session:
        _, key = auth.create_api_key(session=session, name="tests")
    return key


@pytest.fixture
def authed(client, api_key) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def source(authed) -> dict:
    response = authed.post("/api/v1/sources", json={"name": "Production"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def fake_resend(monkeypatch) -> Iterator[FakeResend]:
    """The API sending through Resend: RESEND_API_KEY set, the SDK pointed at a local fake of Resend."""
    before = (resend.api_key, resend.api_url)
    with FakeResend() as fake:
        monkeypatch.setenv("RESEND_API_KEY", fake.api_key)
        monkeypatch.setenv("RESEND_API_URL", fake.url)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()
    resend.api_key, resend.api_url = before
