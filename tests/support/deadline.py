"""The production database deadline, for the tests of the deadline itself (tests/conftest.py sets a busy
machine's one for every other test)."""

from __future__ import annotations

import pytest

from humanic_app.settings import DEFAULT_DB_TIMEOUT_SECONDS, get_settings


@pytest.fixture(autouse=True)
def production_database_deadline(monkeypatch):
    monkeypatch.setenv("HUMANIC_DB_TIMEOUT_SECONDS", str(DEFAULT_DB_TIMEOUT_SECONDS))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
