"""Access is enforced inside event handlers, not only by page redirects."""

import importlib
import pkgutil

import pytest

import humanic_app.state
from humanic_app.state import auth as auth_state
from humanic_app.state.settings import SettingsState

# Handlers that need no sign-in (closing a panel) or check the session inline (background and upload tasks).
UNGUARDED_BY_DESIGN = {"setvar", "close_detail", "send_sample", "handle_upload", "close_builder"}


class _Visitor:
    def __init__(self, principal):
        self.who = principal
        self.cleared = False
        self.calls = []

    def _principal(self):
        return self.who

    def _clear_identity(self):
        self.cleared = True


def test_signed_in_refuses_anonymous_and_redirects():
    @auth_state.signed_in
    def handler(self, value):
        self.calls.append(value)
        return "ran"

    anonymous = _Visitor(None)
    result = handler(anonymous, 1)
    assert anonymous.calls == [] and anonymous.cleared
    assert "signin" in repr(result)

    member = _Visitor(object())
    assert handler(member, 2) == "ran" and member.calls == [2]


def test_the_browser_can_call_only_the_sign_in_handlers_of_the_base_state():
    """Public methods of a Reflex state are events any browser may send; helpers stay private."""
    assert set(auth_state.AuthState.event_handlers) == {
        "setvar",
        "load_sign_in",
        "sign_in",
        "create_owner",
        "sign_out",
        "require_user",
        "load_choose_password",
        "choose_password",
    }


def test_every_settings_handler_is_guarded():
    assert set(SettingsState.event_handlers) - UNGUARDED_BY_DESIGN == {
        "load",
        "save",
        "set_paused",
        "resume_sending",
        "invite",
        "create_api_key",
        "revoke_api_key",
        "change_password",
    }


def _page_states() -> list[type]:
    """Every state of every page: the subclasses of AuthState in humanic_app.state, found, not listed."""
    for module in pkgutil.iter_modules(humanic_app.state.__path__):
        importlib.import_module(f"humanic_app.state.{module.name}")
    found, todo = [], list(auth_state.AuthState.__subclasses__())
    while todo:
        state = todo.pop()
        todo.extend(state.__subclasses__())
        found.append(state)
    return sorted(found, key=lambda state: state.__name__)


def test_the_page_states_are_all_found():
    names = {state.__name__ for state in _page_states()}
    assert {
        "SettingsState",
        "CampaignsState",
        "ActivationState",
        "ContactPrivacyState",
        "DesignGalleryState",
        "BackfillState",
    } <= names


@pytest.mark.parametrize("state", _page_states(), ids=lambda state: state.__name__)
def test_every_page_handler_is_guarded(state):
    handlers = {n: h for n, h in state.event_handlers.items() if n not in UNGUARDED_BY_DESIGN}
    assert handlers
    for name, handler in handlers.items():
        assert getattr(handler.fn, "requires_sign_in", False), f"{name} is not guarded by @signed_in"
