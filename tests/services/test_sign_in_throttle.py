"""Sign-in throttling: growing delays per account and per client address, shared through the database,
checked before any password hash; on SQLite and PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session

from humanic_app import clock
from humanic_app.services import auth, sign_in_throttle
from humanic_app.services.sign_in_throttle import FREE_FAILURES, client_address


@pytest.fixture
def frozen(monkeypatch):
    """The clock, stopped; `frozen.move(seconds)` moves it."""

    class Frozen:
        at = clock.now()

        def move(self, seconds: float) -> None:
            self.at += timedelta(seconds=seconds)

    frozen = Frozen()
    monkeypatch.setattr(clock, "now", lambda: frozen.at)
    return frozen


@pytest.fixture
def owner(engine):
    with Session(engine) as session:
        auth.create_owner(session=session, email="owner@example.com", password="correct horse")
        session.commit()


def _attempt(engine, password: str, *, email: str = "owner@example.com", address: str = "203.0.113.7"):
    """One attempt in its own transaction, committed as the sign-in handler does."""
    with Session(engine, expire_on_commit=False) as session:
        outcome = auth.sign_in(session=session, email=email, password=password, address=address)
        session.commit()
    return outcome


@pytest.fixture
def hashes(monkeypatch):
    """Counts Argon2 verifications."""
    counted = []
    real = auth._hasher

    class Counting:
        def verify(self, *args):
            counted.append(1)
            return real.verify(*args)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(auth, "_hasher", Counting())
    return counted


def test_free_failures_then_growing_delays_capped(engine, owner, frozen):
    for _ in range(FREE_FAILURES - 1):
        assert _attempt(engine, "wrong password").refusal.startswith("That email and password do not match")
    expected = [1, 2, 4, 8, 16, 32, 60, 60]
    for wait in expected:
        assert _attempt(engine, "wrong password").refusal.startswith("That email")
        assert (
            _attempt(engine, "correct horse").refusal
            == f"Too many attempts; try again in {wait} second{'s' if wait > 1 else ''}."
        )
        frozen.move(wait - 0.5)
        assert _attempt(engine, "correct horse").refusal == "Too many attempts; try again in 1 second."
        frozen.move(0.5)
    assert _attempt(engine, "correct horse").user is not None


def test_a_refused_attempt_costs_no_hash_and_both_are_logged_without_the_password(
    engine, owner, frozen, hashes, caplog
):
    caplog.set_level("WARNING", logger="humanic_app")
    for _ in range(FREE_FAILURES):
        _attempt(engine, "wrong password")
    assert len(hashes) == FREE_FAILURES
    refused = _attempt(engine, "correct horse")
    assert refused.user is None and refused.refusal.startswith("Too many attempts")
    assert len(hashes) == FREE_FAILURES
    lines = [r.getMessage() for r in caplog.records]
    assert (
        sum("sign-in failed: account 'owner@example.com' from 203.0.113.7" in line for line in lines) == FREE_FAILURES
    )
    assert any(line.startswith("sign-in refused, too many attempts") for line in lines)
    assert not any("wrong password" in line or "correct horse" in line for line in lines)


def test_delays_hold_per_account_across_addresses_and_per_address_across_accounts(engine, owner, frozen):
    for i in range(FREE_FAILURES):
        _attempt(engine, "wrong password", address=f"198.51.100.{i}")
    assert _attempt(engine, "correct horse", address="198.51.100.99").refusal.startswith("Too many attempts")
    for i in range(FREE_FAILURES):
        _attempt(engine, "wrong password", email=f"guess{i}@example.com", address="192.0.2.1")
    assert _attempt(engine, "x", email="other@example.com", address="192.0.2.1").refusal.startswith("Too many")
    assert _attempt(engine, "x", email="other@example.com", address="192.0.2.2").refusal.startswith("That email")


def test_success_clears_the_account_count_and_old_failures_are_forgotten(engine, owner, frozen):
    for _ in range(FREE_FAILURES - 1):
        _attempt(engine, "wrong password", address="192.0.2.1")
    assert _attempt(engine, "correct horse", address="192.0.2.2").user is not None
    _attempt(engine, "wrong password", address="192.0.2.3")
    assert _attempt(engine, "correct horse", address="192.0.2.4").user is not None  # count restarted
    for _ in range(FREE_FAILURES - 1):
        _attempt(engine, "wrong password", address="192.0.2.5")
    frozen.move(sign_in_throttle.FORGET_AFTER.total_seconds())
    _attempt(engine, "wrong password", address="192.0.2.6")
    assert _attempt(engine, "correct horse", address="192.0.2.7").user is not None
    with Session(engine) as session:
        frozen.move(sign_in_throttle.FORGET_AFTER.total_seconds())
        failed_from = {"192.0.2.1", "192.0.2.3", "192.0.2.5", "192.0.2.6"}  # the account key went on success
        assert sign_in_throttle.purge_forgotten(session=session) == len(failed_from)
        session.commit()


def test_concurrent_failures_from_several_workers_are_all_counted(engine, owner):
    barrier = threading.Barrier(FREE_FAILURES + 2)

    def fail(i: int) -> None:
        with Session(engine) as session:
            barrier.wait()
            sign_in_throttle.record_failure(session=session, keys=[sign_in_throttle.account_key("a@example.com")])
            session.commit()

    threads = [threading.Thread(target=fail, args=(i,)) for i in range(FREE_FAILURES + 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        assert (
            sign_in_throttle.wait_seconds(session=session, keys=[sign_in_throttle.account_key("A@example.com")])
            == sign_in_throttle.delay_after(FREE_FAILURES + 2).total_seconds()
        )


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = ["10.0.0.0/8", "192.0.2.10"]
    assert client_address(peer="203.0.113.9", forwarded_for="1.2.3.4", trusted_proxies=trusted) == "203.0.113.9"
    assert client_address(peer="10.1.2.3", forwarded_for="1.2.3.4", trusted_proxies=[]) == "10.1.2.3"
    assert client_address(peer="10.1.2.3", forwarded_for="1.2.3.4", trusted_proxies=trusted) == "1.2.3.4"
    # a client may prepend anything; the hops our proxies added are on the right
    assert (
        client_address(peer="10.1.2.3", forwarded_for="6.6.6.6, 1.2.3.4, 192.0.2.10", trusted_proxies=trusted)
        == "1.2.3.4"
    )
    assert client_address(peer="192.0.2.10", forwarded_for="", trusted_proxies=trusted) == "192.0.2.10"
    assert client_address(peer="10.1.2.3", forwarded_for="not-an-ip", trusted_proxies=trusted) == "not-an-ip"


def test_trusted_proxies_setting_takes_addresses_and_ranges_and_refuses_anything_else():
    from humanic_app.settings import load_settings

    assert load_settings({}).trusted_proxies == ()
    assert load_settings({"HUMANIC_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1,,fd00::/8 "}).trusted_proxies == (
        "10.0.0.0/8",
        "192.0.2.1",
        "fd00::/8",
    )
    with pytest.raises(ValueError, match="HUMANIC_TRUSTED_PROXIES"):
        load_settings({"HUMANIC_TRUSTED_PROXIES": "proxy.internal"})
