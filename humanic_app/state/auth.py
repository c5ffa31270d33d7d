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

import reflex as rx
from sqlmodel import Session

from humanic_app import routes
from humanic_app.api.deps import SESSION_COOKIE
from humanic_app.db import session_scope
from humanic_app.services import auth, diagnostics, sign_in_throttle, workspace
from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.settings import get_settings

_TTL_SECONDS = get_settings().session_ttl_hours * 3600


def signed_in(handler):
    """Run the handler only for a valid session; otherwise send the visitor to sign-in."""

    @functools.wraps(handler)
    def wrapper(self, *args, **kwargs):
        if self.principal() is None:
            self.clear_identity()
            return rx.redirect(routes.SIGN_IN)
        return handler(self, *args, **kwargs)

    wrapper.requires_sign_in = True  # type: ignore[attr-defined]  # typeshed's functools.wraps result declares no extra attributes
    return wrapper


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
    href: str = ""
    case: str = ""


def finding_row(finding: diagnostics.Finding) -> FindingRow:
    return FindingRow(problem=finding.problem, fix=finding.fix, href=finding.href, case=finding.case)


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
            setattr(self, shown_in, [] if isinstance(getattr(self, shown_in), list) else "")
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

    def principal(self) -> auth.Principal | None:
        with self._service_call() as session:
            return auth.principal_for_session(session=session, token=self.session_token)

    def clear_identity(self) -> None:
        self.user_email = ""
        self.user_role = ""

    @rx.var
    def is_signed_in(self) -> bool:
        return bool(self.user_email)

    @rx.event
    def require_user(self):
        """on_load of every protected page."""
        principal = self.principal()
        if principal is None:
            self.clear_identity()
            return rx.redirect(routes.SIGN_IN)
        self.user_email = principal.email or ""
        self.user_role = principal.role.value if principal.role else ""
        with self._service_call() as session:
            ws = workspace.get_workspace(session=session)
            self.workspace_paused = ws.status.value == "paused"
            self.sending_blocked = workspace.sending_block(workspace=ws)
            found = diagnostics.run_checks(session=session, resend_configured=bool(get_settings().resend_api_key))
            self.findings_everywhere = [finding_row(f) for f in found]

    @rx.event
    def load_sign_in(self):
        """on_load of the sign-in page: offer owner sign-up when nobody exists yet. It leaves `auth_error`
        alone: on a busy server it can run after a quick first attempt and would wipe that refusal
        (sign-out and a successful sign-in clear it instead)."""
        if self.principal() is not None:
            return rx.redirect(routes.DASHBOARD)
        with self._service_call() as session:
            self.needs_owner = not auth.has_users(session=session)

    def _start_session_with(self, identify):
        """Runs `identify(session)` → user; on success starts a session in the same transaction and goes to the
        dashboard, otherwise shows the error on the form."""
        with self._service_call("auth_error") as session:
            user = identify(session)
            self.session_token = auth.start_session(session=session, user=user, ttl=timedelta(seconds=_TTL_SECONDS))
            return rx.redirect(routes.DASHBOARD)
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
        with self._service_call("auth_error") as session:
            attempt = auth.sign_in(
                session=session,
                email=form.get("email", ""),
                password=form.get("password", ""),
                address=self._client_address(),
            )
            if attempt.user is None:
                self.auth_error = attempt.refusal
                return None
            self.session_token = auth.start_session(
                session=session, user=attempt.user, ttl=timedelta(seconds=_TTL_SECONDS)
            )
            return rx.redirect(routes.DASHBOARD)
        return None

    @rx.event
    def sign_out(self):
        with self._service_call() as session:
            auth.end_session(session=session, token=self.session_token)
        self.session_token = ""
        self.auth_error = ""
        self.clear_identity()
        return rx.redirect(routes.SIGN_IN)
