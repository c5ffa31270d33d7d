from datetime import timedelta
from unittest.mock import ANY

import pytest
from sqlmodel import select

from humanic_app import clock
from humanic_app.models import ApiKey, User, UserRole, UserSession
from humanic_app.services import auth, sign_in_throttle
from humanic_app.services.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationFailed


def test_owner_then_sign_in(session):
    assert not auth.has_users(session=session)
    owner = auth.create_owner(session=session, email=" Owner@Example.com ", password="correct horse")
    assert owner.role == UserRole.owner
    assert owner.email == "owner@example.com"
    assert "correct horse" not in owner.password_hash
    assert owner.password_hash.startswith("$argon2id$")
    assert auth.authenticate(session=session, email="OWNER@example.com", password="correct horse").id == owner.id
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(session=session, email="owner@example.com", password="wrong password")
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(session=session, email="nobody@example.com", password="correct horse")


def test_second_owner_refused(session):
    auth.create_owner(session=session, email="a@example.com", password="0123456789")
    with pytest.raises(PermissionDenied):
        auth.create_owner(session=session, email="b@example.com", password="0123456789")


def test_validation(session):
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session=session, email="not-an-email", password="0123456789")
    assert "email" in err.value.field_errors
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session=session, email="a@example.com", password="short")
    assert "password" in err.value.field_errors
    auth.create_user(session=session, email="a@example.com", password="0123456789")
    with pytest.raises(Conflict):
        auth.create_user(session=session, email="A@example.com", password="0123456789")


def test_sessions_expire_and_end(session, monkeypatch):
    user = auth.create_owner(session=session, email="a@example.com", password="0123456789")
    token = auth.start_session(session=session, user=user, ttl=timedelta(hours=1))
    stored = session.exec(select(UserSession)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    principal = auth.principal_for_session(session=session, token=token)
    assert principal.email == "a@example.com" and principal.is_owner
    assert auth.principal_for_session(session=session, token=token + "x") is None
    assert auth.principal_for_session(session=session, token="") is None

    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert auth.principal_for_session(session=session, token=token) is None
    assert auth.purge_expired_sessions(session=session) == 1

    monkeypatch.undo()
    token2 = auth.start_session(session=session, user=user, ttl=timedelta(hours=1))
    auth.end_session(session=session, token=token2)
    assert auth.principal_for_session(session=session, token=token2) is None


def test_invite_only_by_owner(session):
    owner = auth.create_owner(session=session, email="o@example.com", password="0123456789")
    owner_p = auth.Principal(user_id=owner.id, email=owner.email, role=owner.role)
    member = auth.invite_user(
        session=session, inviter=owner_p, email="m@example.com", temporary_password="temp-password"
    )
    assert member.role == UserRole.member and member.must_change_password
    member_p = auth.Principal(user_id=member.id, email=member.email, role=member.role)
    with pytest.raises(PermissionDenied):
        auth.invite_user(session=session, inviter=member_p, email="x@example.com", temporary_password="temp-password")
    auth.change_password(
        session=session, user_id=member.id, current_password="temp-password", new_password="my own password"
    )
    assert not session.get(User, member.id).must_change_password
    assert auth.authenticate(session=session, email="m@example.com", password="my own password")


def test_api_keys_store_only_a_hash_and_can_be_revoked(session):
    row, key = auth.create_api_key(session=session, name="CI")
    assert key.startswith("hmc_") and len(key) > 40
    stored = session.exec(select(ApiKey)).one()
    assert key not in (stored.key_hash, stored.prefix, stored.name)
    assert auth.principal_for_api_key(session=session, key=key).api_key_id == row.id
    assert auth.principal_for_api_key(session=session, key=key[:-1]) is None
    assert auth.principal_for_api_key(session=session, key="") is None
    auth.revoke_api_key(session=session, api_key_id=row.id)
    assert auth.principal_for_api_key(session=session, key=key) is None
    with pytest.raises(ValidationFailed):
        auth.create_api_key(session=session, name="  ")


def test_an_invited_user_replaces_the_temporary_password_once(session):
    owner = auth.create_owner(session=session, email="o@example.com", password="owner password")
    inviter = auth.Principal(user_id=owner.id, email=owner.email, role=UserRole.owner)
    member = auth.invite_user(
        session=session, inviter=inviter, email="m@example.com", temporary_password="temporary 123"
    )
    token = auth.start_session(session=session, user=member, ttl=timedelta(hours=1))
    assert auth.principal_for_session(session=session, token=token).must_change_password
    with pytest.raises(ValidationFailed) as same:
        auth.replace_temporary_password(session=session, user_id=member.id, new_password="temporary 123")
    assert same.value.field_errors == {"password": "Choose a password other than the temporary one."}
    auth.replace_temporary_password(session=session, user_id=member.id, new_password="my own password")
    assert not auth.principal_for_session(session=session, token=token).must_change_password
    assert auth.authenticate(session=session, email="m@example.com", password="my own password").id == member.id
    with pytest.raises(PermissionDenied):  # from now on a change needs the current password
        auth.replace_temporary_password(session=session, user_id=member.id, new_password="another password")


def test_every_user_can_change_their_password_knowing_the_current_one(session):
    owner = auth.create_owner(session=session, email="o@example.com", password="owner password")
    wrong = auth.change_password(session=session, user_id=owner.id, current_password="guess", new_password="short")
    assert wrong.errors == {"current_password": "The current password is not right.", "password": ANY}
    changed = auth.change_password(
        session=session, user_id=owner.id, current_password="owner password", new_password="new password 1"
    )
    assert changed.errors == {}
    assert auth.authenticate(session=session, email="o@example.com", password="new password 1").id == owner.id


def test_a_password_change_signs_out_the_other_sessions_only(session):
    owner = auth.create_owner(session=session, email="o@example.com", password="owner password")
    here, laptop, phone = (auth.start_session(session=session, user=owner, ttl=timedelta(hours=1)) for _ in range(3))
    change = auth.change_password(
        session=session,
        user_id=owner.id,
        current_password="owner password",
        new_password="new password 1",
        keep_token=here,
    )
    assert change.other_sessions_ended == 2
    assert auth.principal_for_session(session=session, token=here).user_id == owner.id
    assert auth.principal_for_session(session=session, token=laptop) is None
    assert auth.principal_for_session(session=session, token=phone) is None


def test_wrong_current_passwords_meet_the_sign_in_delays(session):
    """A stolen session must not be a free password oracle: guesses of the current password count against
    the account like sign-in failures, and a guess during the delay costs no hash and changes nothing."""
    owner = auth.create_owner(session=session, email="o@example.com", password="owner password")
    for n in range(sign_in_throttle.FREE_FAILURES):
        guess = auth.change_password(
            session=session, user_id=owner.id, current_password=f"guess {n}", new_password="new password 1"
        )
        assert guess.retry_after == 0 and "current_password" in guess.errors
    held = auth.change_password(
        session=session, user_id=owner.id, current_password="owner password", new_password="new password 1"
    )
    assert held.retry_after >= 1 and held.errors["current_password"].startswith("Too many attempts; try again in")
    assert auth.authenticate(session=session, email="o@example.com", password="owner password").id == owner.id


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/campaigns", "/campaigns"),
        ("/events?outcome=rejected", "/events?outcome=rejected"),
        ("https://evil.example/x", ""),
        ("//evil.example/x", ""),
        ("/\\evil.example", ""),
        ("javascript:alert(1)", ""),
        ("campaigns", ""),
        ("", ""),
        (None, ""),
        ("/x\r\nSet-Cookie: a=b", ""),
    ],
)
def test_after_sign_in_only_same_origin_relative_paths(asked, goes_to):
    assert auth.safe_next_path(asked) == goes_to
