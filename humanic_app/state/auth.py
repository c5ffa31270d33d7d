"""The base state every signed-in page state extends.

The sign-in token lives in a cookie; every protected event handler re-checks it against the
database through `@signed_in`, so access is enforced on the server, not only by redirects.
"""

from __future__ import annotations

import functools
from datetime import timedelta

import reflex as rx

from humanic_app import routes
from humanic_app.api.deps import SESSION_COOKIE
from humanic_app.db import session_scope
from humanic_app.services import auth, diagnostics, workspace
from humanic_app.services.errors import ServiceError
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

    wrapper.requires_sign_in = True
    return wrapper


class AuthState(rx.State):
    session_token: str = rx.Cookie("", name=SESSION_COOKIE, max_age=_TTL_SECONDS, same_site="lax")
    user_email: str = ""
    user_role: str = ""
    workspace_paused: bool = False
    sending_blocked: str = ""
    findings_everywhere: list[dict[str, str]] = []  # what the automatic checks found; each page shows its own
    needs_owner: bool = False
    auth_error: str = ""

    def principal(self) -> auth.Principal | None:
        with session_scope() as session:
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
        with session_scope() as session:
            ws = workspace.get_workspace(session=session)
            self.workspace_paused = ws.status.value == "paused"
            self.sending_blocked = workspace.sending_block(workspace=ws)
            found = diagnostics.run_checks(session=session, resend_configured=bool(get_settings().resend_api_key))
            self.findings_everywhere = [{"problem": f.problem, "fix": f.fix, "href": f.href} for f in found]

    @rx.event
    def load_sign_in(self):
        """on_load of the sign-in page: offer owner sign-up when nobody exists yet. It leaves `auth_error`
        alone: on a busy server it can run after a quick first attempt and would wipe that refusal
        (sign-out and a successful sign-in clear it instead)."""
        if self.principal() is not None:
            return rx.redirect(routes.DASHBOARD)
        with session_scope() as session:
            self.needs_owner = not auth.has_users(session=session)

    def _start_session_with(self, identify):
        """Runs `identify(session)` → user; on success starts a session in the same transaction and goes to the
        dashboard, otherwise shows the error on the form."""
        try:
            with session_scope() as session:
                user = identify(session)
                self.session_token = auth.start_session(session=session, user=user,
                                                        ttl=timedelta(seconds=_TTL_SECONDS))
        except ServiceError as exc:
            self.auth_error = str(exc)
            return None
        self.auth_error = ""
        return rx.redirect(routes.DASHBOARD)

    @rx.event
    def create_owner(self, form: dict):
        if form.get("password") != form.get("password_confirm"):
            self.auth_error = "The two passwords differ."
            return None
        return self._start_session_with(lambda session: auth.create_owner(
            session=session, email=form.get("email", ""), password=form.get("password", "")))

    @rx.event
    def sign_in(self, form: dict):
        return self._start_session_with(lambda session: auth.authenticate(
            session=session, email=form.get("email", ""), password=form.get("password", "")))

    @rx.event
    def sign_out(self):
        with session_scope() as session:
            auth.end_session(session=session, token=self.session_token)
        self.session_token = ""
        self.auth_error = ""
        self.clear_identity()
        return rx.redirect(routes.SIGN_IN)
