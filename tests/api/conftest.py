"""The real HTTP API, through Starlette's test client, on a migrated database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from humanic_app.api import build_api
from humanic_app.api.deps import get_db_engine
from humanic_app.db import session_scope
from humanic_app.services import auth


@pytest.fixture
def client(engine) -> Iterator[TestClient]:
    api = build_api()
    api.dependency_overrides[get_db_engine] = lambda: engine
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def api_key(engine) -> str:
    with session_scope(engine) as session:
        _, key = auth.create_api_key(session=session, name="tests")
    return key


@pytest.fixture
def authed(client, api_key) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client
