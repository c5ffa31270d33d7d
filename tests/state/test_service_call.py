"""`_service_call`: the one way a page state opens a session, shows a refusal and reloads."""

from collections.abc import Iterator

import pytest

from humanic_app import db
from humanic_app.db import session_scope
from humanic_app.services import workspace
from humanic_app.services.errors import NotFound, ServiceError, ValidationFailed
from humanic_app.state.auth import AuthState, field_lines

service_call = AuthState.__dict__["_service_call"]


class _Page:
    """Stands in for a page state: the fields a refusal can be shown in."""

    def __init__(self):
        self.error = "an earlier refusal"
        self.field_errors = ["name: an earlier refusal"]
        self.reloads: list[str] = []

    def reload(self) -> None:
        with session_scope() as session:
            self.reloads.append(workspace.get_workspace(session=session).name)


@pytest.fixture
def on_test_database(engine) -> Iterator[None]:
    db.use_engine(engine)
    yield
    db.use_engine(None)


def _stored_name() -> str:
    with session_scope() as session:
        return workspace.get_workspace(session=session).name


def test_success_commits_clears_the_field_then_reloads_what_was_committed(on_test_database):
    page = _Page()
    with service_call(page, "error", then=page.reload) as session:
        workspace.update_workspace(session=session, changes={"name": "Acme"})
        assert page.error == ""
    assert page.error == "" and page.reloads == ["Acme"] and _stored_name() == "Acme"


def test_a_refusal_is_shown_skips_the_rest_and_commits_nothing(on_test_database):
    page = _Page()
    reached = []
    with service_call(page, "error", then=page.reload, words=lambda exc: str(exc).removeprefix("name: ")) as session:
        workspace.update_workspace(session=session, changes={"from_name": "Acme"})
        workspace.update_workspace(session=session, changes={"name": ""})
        reached.append("after the refusal")
    assert page.error and not page.error.startswith("name: ")
    assert reached == [] and page.reloads == []
    with session_scope() as session:
        assert workspace.get_workspace(session=session).from_name != "Acme"


def test_a_list_field_gets_one_line_per_field(on_test_database):
    page = _Page()
    with service_call(page, "field_errors", words=field_lines) as session:
        workspace.update_workspace(session=session, changes={"name": "", "from_email": "nope"})
    assert sorted(line.split(":")[0] for line in page.field_errors) == ["from_email", "name"]
    with service_call(page, "field_errors", words=field_lines):
        pass
    assert page.field_errors == []
    assert field_lines(NotFound("No campaign with id 3.")) == ["No campaign with id 3."]


def test_without_a_field_or_outside_catch_refusals_propagate(on_test_database):
    page = _Page()
    with pytest.raises(ServiceError), service_call(page, then=page.reload):
        raise NotFound("gone")
    with pytest.raises(NotFound), service_call(page, "field_errors", catch=ValidationFailed):
        raise NotFound("gone")
    assert page.reloads == []
