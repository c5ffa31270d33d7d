"""The world the real-process worker tests start from: a From address, a verified sending domain, an active
source and an active welcome campaign on `user_signed_up`."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app.models import CampaignStatus, Domain, SourceStatus
from humanic_app.services import sources, workspace
from humanic_app.services.campaigns import store


def welcome_world(engine: Engine) -> tuple[int, str]:
    """Sets the world up and commits it: (the source's id, its token)."""
    with Session(engine) as session:
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
        source = sources.create_source(session=session, name="Prod")
        sources.set_status(session=session, source_id=source.id, status=SourceStatus.active)
        campaign = store.create_campaign(
            session=session,
            document={
                "name": "Welcome",
                "trigger": {"event": "user_signed_up"},
                "steps": [{"subject": "Hi {{ name }}", "html": "<p>Welcome</p>"}],
            },
        )
        store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
        session.commit()
        assert source.id is not None
        return source.id, source.token
