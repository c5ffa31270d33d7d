"""Access is enforced inside event handlers, not only by page redirects."""

from humanic_app.state import auth as auth_state
from humanic_app.state.settings import SettingsState


class _Visitor:
    def __init__(self, principal):
        self._principal = principal
        self.cleared = False
        self.calls = []

    def principal(self):
        return self._principal

    def clear_identity(self):
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


def test_every_settings_handler_is_guarded():
    handlers = {name: h for name, h in SettingsState.event_handlers.items() if name != "setvar"}
    assert set(handlers) == {"load", "save", "set_paused", "invite", "create_api_key", "revoke_api_key"}
    for name, handler in handlers.items():
        assert getattr(handler.fn, "requires_sign_in", False), f"{name} is not guarded by @signed_in"
