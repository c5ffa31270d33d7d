import pytest

from humanic_app.models import WorkspaceStatus
from humanic_app.services import workspace
from humanic_app.services.errors import ValidationFailed


def test_defaults_and_update(session):
    ws = workspace.get_workspace(session=session)
    assert ws.status == WorkspaceStatus.active
    ws = workspace.update_workspace(
        session=session,
        changes={
            "from_email": "hello@acme.io",
            "from_name": "Acme",
            "physical_address": "1 Main St, Springfield",
            "status": "paused",
            "public_url": "https://humanic.acme.io/",
        },
    )
    assert workspace.workspace_as_dict(ws) == {
        "name": "My workspace",
        "from_name": "Acme",
        "from_email": "hello@acme.io",
        "physical_address": "1 Main St, Springfield",
        "status": "paused",
        "public_url": "https://humanic.acme.io",
        "frequency_cap": 3,
        "timezone": "UTC",
        "retention_days": 90,
        "quiet_hours": None,
        "sending_blocked": "",
    }


def test_field_errors(session):
    with pytest.raises(ValidationFailed) as err:
        workspace.update_workspace(
            session=session,
            changes={
                "from_email": "nope",
                "status": "sleeping",
                "public_url": "acme.io",
                "name": "",
                "colour": "red",
                "frequency_cap": -2,
            },
        )
    assert set(err.value.field_errors) == {"from_email", "status", "public_url", "name", "colour", "frequency_cap"}
    assert workspace.get_workspace(session=session).name == "My workspace"


@pytest.mark.parametrize(
    "url,private",
    [
        ("http://localhost:3000", True),
        ("http://127.0.0.1:3000", True),
        ("http://192.168.1.5", True),
        ("http://10.0.0.2:3000", True),
        ("http://app.local", True),
        ("https://humanic.acme.io", False),
        ("https://8.8.8.8", False),
    ],
)
def test_private_url_detection(url, private):
    assert workspace.is_private_url(url) is private


def test_effective_public_url_order(session):
    ws = workspace.get_workspace(session=session)
    assert (
        workspace.effective_public_url(workspace=ws, env_public_url=None, served_at="http://localhost:3000/")
        == "http://localhost:3000"
    )
    assert (
        workspace.effective_public_url(
            workspace=ws, env_public_url="https://env.example.com", served_at="http://localhost:3000"
        )
        == "https://env.example.com"
    )
    ws.public_url = "https://set.example.com"
    assert (
        workspace.effective_public_url(
            workspace=ws, env_public_url="https://env.example.com", served_at="http://localhost:3000"
        )
        == "https://set.example.com"
    )


def test_served_base_url_is_the_backend_in_dev_mode():
    assert (
        workspace.served_base_url(page_host="http://localhost:3000", prod=True, backend_port=3000)
        == "http://localhost:3000"
    )
    assert (
        workspace.served_base_url(page_host="http://localhost:3000", prod=False, backend_port=8000)
        == "http://localhost:8000"
    )
    assert (
        workspace.served_base_url(page_host="http://192.168.1.5:3000", prod=False, backend_port=8000)
        == "http://192.168.1.5:8000"
    )
