"""Users, sign-in sessions and API keys.

Passwords are hashed with Argon2id (memory-hard). Session tokens and API keys are long random
strings, so a SHA-256 of them is enough to store; lookups go by hash and a constant-time compare
confirms the match.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, func, select

from humanic_app import clock
from humanic_app.models import ApiKey, User, UserRole, UserSession, limits
from humanic_app.models.rows import id_of
from humanic_app.services import sign_in_throttle
from humanic_app.services.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationFailed

MIN_PASSWORD_LENGTH = 10
API_KEY_PREFIX = "hmc_"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

logger = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verifying against this keeps sign-in for an unknown email as slow as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API key."""

    user_id: int | None
    email: str | None
    role: UserRole | None
    api_key_id: int | None = None
    must_change_password: bool = False  # invited with a temporary password not yet replaced

    @property
    def is_owner(self) -> bool:
        return self.role == UserRole.owner


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > limits.EMAIL or not EMAIL_RE.match(email):
        raise ValidationFailed({"email": "Enter a valid email address, like you@example.com."})
    return email


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."})
    if len(password) > limits.PASSWORD:
        raise ValidationFailed({"password": limits.too_long(limits.PASSWORD)})


def has_users(*, session: Session) -> bool:
    return (session.exec(select(func.count()).select_from(User)).one() or 0) > 0


def create_user(
    *, session: Session, email: str, password: str, role: UserRole = UserRole.member, must_change_password: bool = False
) -> User:
    email = validate_email(email)
    validate_password(password)
    if session.exec(select(User).where(User.email == email)).first():
        raise Conflict(f"A user with the email {email} already exists.")
    user = User(email=email, password_hash=_hasher.hash(password), role=role, must_change_password=must_change_password)
    session.add(user)
    session.flush()
    return user


def create_owner(*, session: Session, email: str, password: str) -> User:
    """The first account. Refused once any user exists, so the sign-up form cannot be replayed."""
    if has_users(session=session):
        raise PermissionDenied("The owner account already exists. Sign in instead.")
    return create_user(session=session, email=email, password=password, role=UserRole.owner)


def invite_user(*, session: Session, inviter: Principal, email: str, temporary_password: str) -> User:
    if not inviter.is_owner:
        raise PermissionDenied("Only the owner can invite users.")
    return create_user(
        session=session, email=email, password=temporary_password, role=UserRole.member, must_change_password=True
    )


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.id))))


def authenticate(*, session: Session, email: str, password: str) -> User:
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise AuthenticationFailed("That email and password do not match an account.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    return user


@dataclasses.dataclass(frozen=True)
class SignIn:
    """A sign-in attempt's outcome: the user, or why not (to show on the form)."""

    user: User | None
    refusal: str = ""


def sign_in(*, session: Session, email: str, password: str, address: str) -> SignIn:
    """`authenticate` behind growing delays per account and per client address. A refusal is returned, not
    raised, so the caller commits the failure it counted; an attempt refused for its delay costs one read
    and no hash."""
    keys = [sign_in_throttle.account_key(email), sign_in_throttle.address_key(address)]
    wait = sign_in_throttle.wait_seconds(session=session, keys=keys)
    if wait:
        logger.warning("sign-in refused, too many attempts: account %r from %s, wait %d s", email[:320], address, wait)
        return SignIn(user=None, refusal=f"Too many attempts; try again in {wait} second{'s' if wait > 1 else ''}.")
    try:
        user = authenticate(session=session, email=email, password=password)
    except AuthenticationFailed as exc:
        sign_in_throttle.record_failure(session=session, keys=keys)
        logger.warning("sign-in failed: account %r from %s", email[:320], address)
        return SignIn(user=None, refusal=str(exc))
    sign_in_throttle.forget(session=session, keys=keys[:1])
    return SignIn(user=user)


def replace_temporary_password(*, session: Session, user_id: int, new_password: str) -> None:
    """The first password of an invited user, who just signed in with the temporary one (so it is not asked
    again). Refused once replaced: from then on a change needs the current password."""
    user = session.get(User, user_id)
    if user is None or not user.must_change_password:
        raise PermissionDenied("Your password is already your own: change it in Settings.")
    validate_password(new_password)
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        if _hasher.verify(user.password_hash, new_password):
            raise ValidationFailed({"password": "Choose a password other than the temporary one."})
    user.password_hash = _hasher.hash(new_password)
    user.must_change_password = False
    session.add(user)


def safe_next_path(path: str | None) -> str:
    """Where to go after sign-in: a path on this site only ('/campaigns?x=1'), never another origin
    ('https://evil.example', '//evil.example', '/\\evil.example'); anything else gives ''."""
    path = (path or "").strip()
    if not path.startswith("/") or path.startswith(("//", "/\\")) or any(c in path for c in "\\\r\n\t"):
        return ""
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc else ""


@dataclasses.dataclass(frozen=True)
class PasswordChange:
    """What a password change did: `errors` by field (`current_password`, `password`) when refused, and
    `retry_after` seconds when refused for too many wrong current passwords."""

    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    retry_after: int = 0
    other_sessions_ended: int = 0


def change_password(
    *, session: Session, user_id: int, current_password: str, new_password: str, keep_token: str = ""
) -> PasswordChange:
    """Checks the current password behind the sign-in throttle's delays for the account (a stolen session
    must not become a free password oracle), then replaces it and ends the user's other sessions (all but
    `keep_token`'s), so a device signed in by someone else is out once the owner changes the password.
    A refusal is returned, not raised, so the caller commits the failure it counted."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthenticationFailed("Sign in again.")
    keys = [sign_in_throttle.account_key(user.email)]
    wait = sign_in_throttle.wait_seconds(session=session, keys=keys)
    if wait:
        refusal = f"Too many attempts; try again in {wait} second{'s' if wait > 1 else ''}."
        return PasswordChange(errors={"current_password": refusal}, retry_after=wait)
    errors: dict[str, str] = {}
    try:
        validate_password(new_password)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    try:
        _hasher.verify(user.password_hash, current_password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        sign_in_throttle.record_failure(session=session, keys=keys)
        logger.warning("password change refused: wrong current password for user %d", user_id)
        errors["current_password"] = "The current password is not right."
    if errors:
        return PasswordChange(errors=errors)
    sign_in_throttle.forget(session=session, keys=keys)
    user.password_hash = _hasher.hash(new_password)
    user.must_change_password = False
    session.add(user)
    return PasswordChange(
        other_sessions_ended=end_other_sessions(session=session, user_id=user_id, keep_token=keep_token)
    )


def end_other_sessions(*, session: Session, user_id: int, keep_token: str) -> int:
    """Signs the user out everywhere but the session of `keep_token`; returns how many sessions ended."""
    others = session.exec(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.token_hash != _sha256(keep_token))
    ).all()
    for row in others:
        session.delete(row)
    return len(others)


def start_session(*, session: Session, user: User, ttl: timedelta) -> str:
    """Returns the session token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_sha256(token), user_id=id_of(user), expires_at=clock.now() + ttl))
    session.flush()
    return token


def principal_for_session(*, session: Session, token: str) -> Principal | None:
    if not token:
        return None
    token_hash = _sha256(token)
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash)).first()
    if row is None or not hmac.compare_digest(row.token_hash, token_hash) or row.expires_at <= clock.now():
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    return Principal(user_id=user.id, email=user.email, role=user.role, must_change_password=user.must_change_password)


def end_session(*, session: Session, token: str) -> None:
    if not token:
        return
    row = session.exec(select(UserSession).where(UserSession.token_hash == _sha256(token))).first()
    if row is not None:
        session.delete(row)


def purge_expired_sessions(*, session: Session) -> int:
    rows = list(session.exec(select(UserSession).where(UserSession.expires_at <= clock.now())))
    for row in rows:
        session.delete(row)
    return len(rows)


def create_api_key(*, session: Session, name: str) -> tuple[ApiKey, str]:
    """Returns the stored row and the key itself, which is never retrievable again."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "Give the key a name, like 'CI' or 'Terraform'."})
    if len(name) > limits.NAME:
        raise ValidationFailed({"name": limits.too_long(limits.NAME)})
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[: len(API_KEY_PREFIX) + 6], key_hash=_sha256(key))
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(*, session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke_api_key(*, session: Session, api_key_id: int) -> None:
    row = session.get(ApiKey, api_key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        session.add(row)


def principal_for_api_key(*, session: Session, key: str) -> Principal | None:
    if not key or not key.startswith(API_KEY_PREFIX):
        return None
    key_hash = _sha256(key)
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    row.last_used_at = clock.now()
    session.add(row)
    return Principal(user_id=None, email=None, role=UserRole.owner, api_key_id=row.id)
