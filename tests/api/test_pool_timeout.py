"""A route that cannot get a database connection in time answers 503, never 500."""

from __future__ import annotations

from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.testclient import TestClient

from humanic_app.api import build_api
from humanic_app.api.deps import get_principal, get_session


def test_a_pool_checkout_timeout_is_a_503_with_retry_after():
    api = build_api()

    def no_connection_free():
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 1.50")

    api.dependency_overrides[get_session] = no_connection_free
    api.dependency_overrides[get_principal] = lambda: None
    answer = TestClient(api, raise_server_exceptions=False).get("/api/v1/settings")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "not answering" in answer.json()["detail"]
