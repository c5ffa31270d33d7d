"""Sign-in, or "Create the owner account" on a fresh install."""

import reflex as rx

from humanic_app.models import limits
from humanic_app.state.auth import AuthState


def _error() -> rx.Component:
    return rx.cond(
        AuthState.auth_error != "",
        rx.callout(AuthState.auth_error, icon="triangle-alert", color_scheme="red", id="auth-error"),
    )


def _field(label: str, name: str, kind: str = "text", autocomplete: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),  # rx.text drops html_for
        rx.input(
            name=name,
            id=name,
            type=kind,
            required=True,
            width="100%",
            auto_complete=autocomplete,
            max_length=limits.EMAIL if kind == "email" else limits.PASSWORD,
        ),
        spacing="1",
        width="100%",
    )


def owner_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Create the owner account", size="5", as_="h1"),
            rx.text(
                "Nobody has signed up yet. The first account owns this workspace and can invite others.",
                size="2",
                color=rx.color("gray", 11),
            ),
            _field("Email", "email", "email", "username"),
            _field("Password (at least 10 characters)", "password", "password", "new-password"),
            _field("Repeat the password", "password_confirm", "password", "new-password"),
            _error(),
            rx.button("Create the owner account", type="submit", width="100%"),
            spacing="3",
        ),
        on_submit=AuthState.create_owner,
        reset_on_submit=False,
    )


def sign_in_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign in to Humanic", size="5", as_="h1"),
            _field("Email", "email", "email", "username"),
            _field("Password", "password", "password", "current-password"),
            _error(),
            rx.button("Sign in", type="submit", width="100%"),
            spacing="3",
        ),
        on_submit=AuthState.sign_in,
        reset_on_submit=False,
    )


def choose_password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Choose your password", size="5", as_="h1"),
            rx.text(
                "You signed in as ",
                rx.text.strong(AuthState.user_email),
                " with a temporary password. Choose one only you know before going on.",
                size="2",
                color=rx.color("gray", 11),
            ),
            _field("New password (at least 10 characters)", "password", "password", "new-password"),
            _field("Repeat the new password", "password_confirm", "password", "new-password"),
            _error(),
            rx.button("Save my password", type="submit", width="100%"),
            spacing="3",
        ),
        on_submit=AuthState.choose_password,
        reset_on_submit=False,
    )


def _centred_card(content: rx.Component) -> rx.Component:
    """The signed-out frame: the brand (not a heading: each form's title is the page's one h1) above the form,
    in a main landmark, centred on any width."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.icon("mail-check", size=22, aria_hidden="true"),
                        rx.text("Humanic", size="4", weight="bold"),
                        align="center",
                    ),
                    content,
                    spacing="4",
                ),
                width="400px",
                max_width="92vw",
                padding="24px",
            ),
            min_height="100vh",
            padding="16px 0",
            background=rx.color("gray", 2),
        )
    )


def signin_page() -> rx.Component:
    return _centred_card(rx.cond(AuthState.needs_owner, owner_form(), sign_in_form()))


def choose_password_page() -> rx.Component:
    return _centred_card(
        rx.cond(AuthState.user_email != "", choose_password_form(), rx.spinner(size="3", aria_label="Loading"))
    )
