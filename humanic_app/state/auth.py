"""The base state every signed-in page state extends.

The sign-in token lives in a cookie; every protected event handler re-checks it against the
database through `@signed_in`, so access is enforced on the server, not only by redirects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from humanic_app import routes
from humanic_app.api.deps import SESSION_COOKIE
from humanic_app.db import read_scope, session_scope
from humanic_app.services import auth, diagnostics, sign_in_throttle, workspace
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.services.sending import credentials
from humanic_app.settings import get_settings

_TTL_SECONDS = get_settings().session_ttl_hours * 3600


def sign_in_redirect(state) -> EventSpec:
    """To sign-in, coming back afterwards to the page the visitor was on."""
    router = getattr(state, "router", None)
    url = getattr(router, "url", None)
    path = (url.path.rstrip("/") or "/") if url else ""  # the static build serves pages as /campaigns/
    here = auth.safe_next_path(path + (f"?{url.query}" if url and url.query else ""))
    if here in ("", routes.DASHBOARD) or here.startswith((routes.SIGN_IN, routes.CHOOSE_PASSWORD)):
        return rx.redirect(routes.SIGN_IN)
    return rx.redirect(f"{routes.SIGN_IN}?{urlencode({'next': here})}")


def _guarded(handler, *, before_password_change: bool):
    @functools.wraps(handler)
    def wrapper(self, *args, **kwargs):
        principal = self._principal()
        if principal is None:
            self._clear_identity()
            return sign_in_redirect(self)
        if getattr(principal, "must_change_password", False) and not before_password_change:
            return rx.redirect(routes.CHOOSE_PASSWORD)
        return handler(self, *args, **kwargs)

    wrapper.requires_sign_in = True  # type: ignore[attr-defined]  # typeshed's functools.wraps result declares no extra attributes
    return wrapper


def signed_in(handler):
    """Run the handler only for a valid session whose user has a password of their own; otherwise send the
    visitor to sign-in (or to choose that password)."""
    return _guarded(handler, before_password_change=False)


def signed_in_with_temporary_password(handler):
    """Like `signed_in`, but also for an invited user still on the temporary password (choosing one)."""
    return _guarded(handler, before_password_change=True)


def field_messages(exc: ServiceError) -> dict[str, str]:
    """A refusal as {field: message}: each field a ValidationFailed names, else the whole message under ""."""
    if isinstance(exc, ValidationFailed):
        return dict(exc.field_errors)
    return {"": str(exc)}


def field_lines(exc: ServiceError) -> list[str]:
    """A refusal as a list of lines: one per field a ValidationFailed names, else its message."""
    if isinstance(exc, ValidationFailed):
        return [f"{field}: {message}" for field, message in exc.field_errors.items()]
    return [str(exc)]


@dataclasses.dataclass(frozen=True)
class FindingRow:
    """One finding of the automatic checks, as the pages show it."""

    problem: str
    fix: str
    href: str = ""  # where it is fixed or seen, possibly a filtered view (/events?outcome=rejected)
    case: str = ""
    page: str = ""  # the page concerned: href without its query


def finding_row(finding: diagnostics.Finding) -> FindingRow:
    return FindingRow(
        problem=finding.problem,
        fix=finding.fix,
        href=finding.href,
        case=finding.case,
        page=finding.href.split("?", 1)[0],
    )


class AuthState(rx.State):
    # Secure when the app is served over https (its public URL): the cookie then never travels in clear.
    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        max_age=_TTL_SECONDS,
        same_site="lax",
        secure=(get_settings().public_url or "").startswith("https://"),
    )
    user_email: str = ""
    user_role: str = ""
    workspace_paused: bool = False
    sending_blocked: str = ""
    findings_everywhere: list[FindingRow] = []  # what the automatic checks found; each page shows its own
    needs_owner: bool = False
    auth_error: str = ""
    next_path: str = ""  # the page asked for before signing in, where sign-in leads

    # Private: a public method of a state is an event the browser may call.
    @contextlib.contextmanager
    def _service_call(
        self,
        shown_in: str | None = None,
        *,
        then: Callable[[], object] | None = None,
        words: Callable[[ServiceError], object] = str,
        catch: type[ServiceError] = ServiceError,
    ) -> Iterator[Session]:
        """The session a handler's service calls share, committed when the block ends.

        With `shown_in` (the state field where the page shows this action's refusals), the field is emptied
        first and a `catch` error raised in the block becomes `words(exc)` there: the rest of the block is
        skipped, nothing is committed, and the handler goes on after the `with`. Without `shown_in`, refusals
        propagate. `then` (typically the page's reload) runs only after a successful commit."""
        if shown_in:
            shown = getattr(self, shown_in)
            setattr(self, shown_in, [] if isinstance(shown, list) else {} if isinstance(shown, dict) else "")
        try:
            with session_scope() as session:
                yield session
        except catch as exc:
            if not shown_in:
                raise
            setattr(self, shown_in, words(exc))
            return
        if then is not None:
            then()

    def _new_sign_in(self, seen: str) -> bool:
        """True the first time a page state runs under this sign-in (`seen`: its backend var remembering the
        last one): filters and searches left from an earlier sign-in are then stale."""
        if getattr(self, seen) == self.session_token:
            return False
        setattr(self, seen, self.session_token)
        return True

    def _refresh_findings(self, session: Session) -> None:
        """The banners and findings every page shows, read again after a change that may alter them."""
        ws = workspace.get_workspace(session=session)
        self.workspace_paused = ws.status.value == "paused"
        self.sending_blocked = workspace.sending_block(workspace=ws)
        found = diagnostics.run_checks(
            session=session, resend_configured=credentials.in_effect(session=session).configured
        )
        self.findings_everywhere = [finding_row(f) for f in found]

    @contextlib.contextmanager
    def _read_call(self) -> Iterator[Session]:
        """A snapshot for a handler that only reads: it takes no write turn, so it never waits for a writer
        (sync handlers run on the event loop's thread, where any wait stops the whole process)."""
        with read_scope() as session:
            yield session

    def _principal(self) -> auth.Principal | None:
        """Checked by every protected event (an Integrations tab polls twice a second): a read."""
        with self._read_call() as session:
            return auth.principal_for_session(session=session, token=self.session_token)

    def _clear_identity(self) -> None:
        self.user_email = ""
        self.user_role = ""

    @rx.var
    def is_signed_in(self) -> bool:
        return bool(self.user_email)

    @rx.event
    def require_user(self):
        """on_load of every protected page."""
        principal = self._principal()
        if principal is None:
            self._clear_identity()
            return sign_in_redirect(self)
        if principal.must_change_password:
            return rx.redirect(routes.CHOOSE_PASSWORD)
        self.user_email = principal.email or ""
        self.user_role = principal.role.value if principal.role else ""
        with self._read_call() as session:  # every page's on_load: reads only
            self._refresh_findings(session)

    @rx.event
    def load_sign_in(self):
        """on_load of the sign-in page: offer owner sign-up when nobody exists yet. It leaves `auth_error`
        alone: on a busy server it can run after a quick first attempt and would wipe that refusal
        (sign-out and a successful sign-in clear it instead)."""
        self.next_path = auth.safe_next_path(self.router.url.query_parameters.get("next"))
        if self._principal() is not None:
            return rx.redirect(self.next_path or routes.DASHBOARD)
        with self._service_call() as session:
            self.needs_owner = not auth.has_users(session=session)

    def _start_session_with(self, identify):
        """Runs `identify(session)` → user (or None after it set `auth_error`); on success starts a session in
        the same transaction and goes to the page asked for (an invited user first chooses a password),
        otherwise shows the error on the form."""
        with self._service_call("auth_error", words=lambda exc: " ".join(field_messages(exc).values())) as session:
            user = identify(session)
            if user is None:
                return None
            self.session_token = auth.start_session(session=session, user=user, ttl=timedelta(seconds=_TTL_SECONDS))
            # read from the page's own URL too: a form sent before the page's on_load ran still knows `next`
            self.next_path = auth.safe_next_path(self.router.url.query_parameters.get("next")) or self.next_path
            if user.must_change_password:
                return rx.redirect(routes.CHOOSE_PASSWORD)
            return rx.redirect(self.next_path or routes.DASHBOARD)
        return None

    @rx.event
    @signed_in_with_temporary_password
    def load_choose_password(self):
        """on_load of the page where an invited user replaces the temporary password."""
        self.auth_error = ""
        principal = self._principal()
        self.user_email = (principal.email if principal else "") or ""

    @rx.event
    @signed_in_with_temporary_password
    def choose_password(self, form: dict):
        if form.get("password") != form.get("password_confirm"):
            self.auth_error = "The two passwords differ."
            return None
        principal = self._principal()
        if principal is None or principal.user_id is None:
            return sign_in_redirect(self)
        with self._service_call("auth_error", words=lambda exc: " ".join(field_messages(exc).values())) as session:
            auth.replace_temporary_password(
                session=session, user_id=principal.user_id, new_password=form.get("password", "")
            )
            return rx.redirect(self.next_path or routes.DASHBOARD)
        return None

    @rx.event
    def create_owner(self, form: dict):
        if form.get("password") != form.get("password_confirm"):
            self.auth_error = "The two passwords differ."
            return None
        return self._start_session_with(
            lambda session: auth.create_owner(
                session=session, email=form.get("email", ""), password=form.get("password", "")
            )
        )

    def _client_address(self) -> str:
        """The browser's address: the websocket's peer (Reflex's trusted_proxy_hops stays 0, so that is what
        it reports), or behind a trusted proxy the client it names in X-Forwarded-For."""
        return sign_in_throttle.client_address(
            peer=self.router.session.client_ip,
            forwarded_for=self.router.headers.raw_headers.get("x-forwarded-for", ""),
            trusted_proxies=get_settings().trusted_proxies,
        )

    @rx.event
    def sign_in(self, form: dict):
        def identify(session):
            attempt = auth.sign_in(
                session=session,
                email=form.get("email", ""),
                password=form.get("password", ""),
                address=self._client_address(),
            )
            self.auth_error = attempt.refusal if attempt.user is None else ""
            return attempt.user

        return self._start_session_with(identify)

    @rx.event
    def sign_out(self):
        with self._service_call() as session:
            auth.end_session(session=session, token=self.session_token)
        self.session_token = ""
        self.auth_error = self.next_path = ""
        self._clear_identity()
        return rx.redirect(routes.SIGN_IN)
