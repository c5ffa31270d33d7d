"""Settings → Sending's service: the Resend key and webhook secret in effect and from where, encrypted at
rest, the environment winning, PostgreSQL refusing to store without HUMANIC_SECRET_KEY, the key tested and
the webhook registered against the fake Resend, and the key never in a log."""

from __future__ import annotations

import logging
import stat

import pytest
from sqlalchemy import text

from humanic_app.models import KeyAccess
from humanic_app.services import secret_key, workspace
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.sending import connection, credentials
from humanic_app.services.sending.credentials import Source
from humanic_app.services.sending.resend_account import KeyCheck
from humanic_app.settings import load_settings
from tests.support.fake_resend import FakeResend

SECRET = "a-long-random-secret-for-tests-only"
PUBLIC = "https://humanic.acme.io"


def settings_for(database_url: str, tmp_path, **env: str):
    return load_settings({"DATABASE_URL": database_url, "HUMANIC_DATA_DIR": str(tmp_path), **env})


@pytest.fixture
def fake():
    with FakeResend() as fake:
        yield fake


def test_round_trip_encrypted_at_rest(session, database_url, tmp_path):
    settings = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY=SECRET)
    assert credentials.in_effect(session=session, settings=settings).api_key_source == Source.none
    credentials.store_api_key(session=session, api_key="re_stored_123456", access=KeyAccess.full, settings=settings)
    credentials.store_webhook(
        session=session, webhook_id="wh_1", endpoint=PUBLIC, signing_secret="whsec_c2VjcmV0", settings=settings
    )
    session.flush()
    raw = session.execute(text("SELECT api_key_cipher, webhook_secret_cipher FROM sending_credentials")).one()
    assert "re_stored_123456" not in raw[0] and "whsec_c2VjcmV0" not in raw[1] and raw[0] and raw[1]
    found = credentials.in_effect(session=session, settings=settings)
    assert (found.api_key, found.api_key_source) == ("re_stored_123456", Source.stored)
    assert (found.webhook_secret, found.webhook_secret_source) == ("whsec_c2VjcmV0", Source.stored)
    assert "re_stored" not in repr(found) and "whsec" not in repr(found)

    other = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY="another-secret")
    unreadable = credentials.in_effect(session=session, settings=other)
    assert unreadable.api_key is None and unreadable.api_key_source == Source.none
    assert any("cannot be read" in note for note in connection.status(session=session, settings=other).notes)


def test_sqlite_generates_its_secret_once_into_the_data_directory(session, tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'humanic.db'}", tmp_path)
    assert credentials.storage_problem(settings=settings) is None
    credentials.store_api_key(session=session, api_key="re_sqlite_123456", access=KeyAccess.full, settings=settings)
    secret_file = tmp_path / secret_key.SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    first = secret_file.read_text()
    credentials.store_api_key(session=session, api_key="re_sqlite_654321", access=KeyAccess.full, settings=settings)
    assert secret_file.read_text() == first
    assert credentials.in_effect(session=session, settings=settings).api_key == "re_sqlite_654321"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_without_secret_key_refuses_to_store(session, database_url, tmp_path, fake):
    settings = settings_for(database_url, tmp_path, RESEND_API_URL=fake.url)
    problem = credentials.storage_problem(settings=settings)
    assert problem and "HUMANIC_SECRET_KEY" in problem
    with pytest.raises(ValidationFailed) as refused:
        connection.connect(session=session, api_key=fake.api_key, settings=settings)
    assert "HUMANIC_SECRET_KEY" in refused.value.field_errors["api_key"]
    assert not list((tmp_path).iterdir())  # no key file generated for PostgreSQL
    state = connection.status(session=session, settings=settings)
    assert state.mode == "local_outbox" and not state.can_edit and problem in state.notes
    assert fake.requests == []  # refused before the key was sent anywhere


def test_environment_wins_and_the_page_says_so(session, database_url, tmp_path):
    stored_settings = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY=SECRET)
    credentials.store_api_key(
        session=session, api_key="re_stored_123456", access=KeyAccess.full, settings=stored_settings
    )
    env = settings_for(
        database_url,
        tmp_path,
        HUMANIC_SECRET_KEY=SECRET,
        RESEND_API_KEY="re_from_env_1234",
        RESEND_WEBHOOK_SECRET="whsec_ZW52",
    )
    found = credentials.in_effect(session=session, settings=env)
    assert (found.api_key, found.api_key_source) == ("re_from_env_1234", Source.environment)
    assert (found.webhook_secret, found.webhook_secret_source) == ("whsec_ZW52", Source.environment)
    state = connection.status(session=session, settings=env)
    assert state.mode == "resend" and not state.can_edit and connection.ENV_KEY_NOTE in state.notes
    for refused in (
        lambda: connection.connect(session=session, api_key="re_another_1234", settings=env),
        lambda: connection.disconnect(session=session, settings=env),
    ):
        with pytest.raises(ValidationFailed, match="RESEND_API_KEY"):
            refused()


def test_connect_full_access_registers_the_webhook(session, database_url, tmp_path, fake, caplog):
    caplog.set_level(logging.DEBUG)
    settings = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY=SECRET, RESEND_API_URL=fake.url)
    workspace.update_workspace(session=session, changes={"public_url": PUBLIC})
    result, problem = connection.connect(session=session, api_key=f"  {fake.api_key}\n", settings=settings)
    assert result.outcome == KeyCheck.full and problem is None
    (hook,) = fake.webhooks.values()
    assert hook["endpoint"] == PUBLIC + "/api/webhooks/resend"
    assert set(hook["events"]) >= {"email.bounced", "email.complained", "email.delivered", "email.suppressed"}
    found = credentials.in_effect(session=session, settings=settings)
    assert found.api_key == fake.api_key and found.webhook_secret == hook["signing_secret"]
    state = connection.status(session=session, settings=settings)
    assert state.key_access == KeyAccess.full and state.webhook_endpoint == hook["endpoint"] and state.notes == []

    # Connecting again replaces Humanic's webhook instead of adding a second one.
    connection.connect(session=session, api_key=fake.api_key, settings=settings)
    assert len(fake.webhooks) == 1
    assert (
        credentials.in_effect(session=session, settings=settings).webhook_secret
        == next(iter(fake.webhooks.values()))["signing_secret"]
    )

    connection.disconnect(session=session, settings=settings)
    assert fake.webhooks == {}
    assert credentials.in_effect(session=session, settings=settings).api_key_source == Source.none
    assert connection.status(session=session, settings=settings).mode == "local_outbox"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "resend api key stored" in logged and fake.api_key not in logged and "whsec_" not in logged


def test_sending_only_key_and_no_public_https_say_what_to_do(session, database_url, tmp_path, fake):
    settings = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY=SECRET, RESEND_API_URL=fake.url)
    fake.sending_keys.add("re_sending_only_1")
    workspace.update_workspace(session=session, changes={"public_url": PUBLIC})
    result, problem = connection.connect(session=session, api_key="re_sending_only_1", settings=settings)
    assert result.outcome == KeyCheck.sending and "sending-only" in result.message
    assert problem and "may only send" in problem and PUBLIC + "/api/webhooks/resend" in problem
    assert "RESEND_WEBHOOK_SECRET" in problem and fake.webhooks == {}
    assert connection.status(session=session, settings=settings).key_access == KeyAccess.sending
    assert connection.test_connection(session=session, settings=settings).outcome == KeyCheck.sending

    workspace.update_workspace(session=session, changes={"public_url": "http://localhost:3000"})
    result, problem = connection.connect(session=session, api_key=fake.api_key, settings=settings)
    assert result.outcome == KeyCheck.full and problem and "public https address" in problem
    assert any("Register webhook" in n for n in connection.status(session=session, settings=settings).notes)


def test_a_key_resend_refuses_is_not_stored(session, database_url, tmp_path, fake):
    settings = settings_for(database_url, tmp_path, HUMANIC_SECRET_KEY=SECRET, RESEND_API_URL=fake.url)
    with pytest.raises(ValidationFailed) as refused:
        connection.connect(session=session, api_key="re_wrong_key_123", settings=settings)
    assert "refused this key" in refused.value.field_errors["api_key"]
    assert "re_wrong_key_123" not in str(refused.value)
    with pytest.raises(ValidationFailed, match="starts with re_"):
        connection.connect(session=session, api_key="sk_live_whatever", settings=settings)
    assert credentials.stored(session=session) is None
    with pytest.raises(ValidationFailed, match="No Resend key"):
        connection.test_connection(session=session, settings=settings)


def test_the_worker_picks_up_a_key_set_or_removed_without_a_restart(engine, database_url, tmp_path, fake, monkeypatch):
    import resend

    from humanic_app import db, workers
    from humanic_app.db import session_scope
    from humanic_app.services.delivery.resend_sender import ResendSender
    from humanic_app.services.delivery.senders import LocalOutboxSender
    from humanic_app.settings import get_settings

    for name, value in settings_env(database_url, tmp_path, fake).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    before = (resend.api_key, resend.api_url)
    db.use_engine(engine)
    workers._sender_for.cache_clear()
    try:
        assert isinstance(workers.current_sender(), LocalOutboxSender)
        with session_scope(engine) as session:
            connection.connect(session=session, api_key=fake.api_key)
        first = workers.current_sender()
        assert isinstance(first, ResendSender) and workers.current_sender() is first  # rebuilt only on change
        with session_scope(engine) as session:
            connection.disconnect(session=session)
        assert isinstance(workers.current_sender(), LocalOutboxSender)
    finally:
        db.use_engine(None)
        workers._sender_for.cache_clear()
        resend.api_key, resend.api_url = before


def settings_env(database_url: str, tmp_path, fake: FakeResend) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "HUMANIC_DATA_DIR": str(tmp_path),
        "HUMANIC_SECRET_KEY": SECRET,
        "RESEND_API_URL": fake.url,
    }
