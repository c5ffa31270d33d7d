from humanic_app.models import CampaignStatus, Domain
from humanic_app.services import checklist, workspace
from humanic_app.services.campaigns import library, store
from tests.support.campaign_world import T0, World


def done(session, resend=False) -> dict[str, bool]:
    return {i.key: i.done for i in checklist.setup_checklist(session=session, resend_configured=resend)}


def test_checklist_follows_the_setup(session):
    assert [k for k, v in done(session).items() if v] == ["domain"]  # local outbox: no domain needed
    assert not any(done(session, resend=True).values())
    world = World(session)  # sets a From address and a postal address, connects and activates a source
    workspace.update_workspace(session=session, changes={"physical_address": ""})
    assert done(session) == {
        "from_address": True,
        "domain": True,
        "source": True,
        "test_event": False,
        "mapping": False,
        "campaign": False,
        "address": False,
    }
    world.send("user_signed_up", T0, user="anon", email=None)
    assert done(session)["test_event"] and not done(session)["mapping"]
    world.send("user_signed_up", T0, email="ada@example.com")
    assert done(session)["mapping"]
    campaign = store.create_campaign(session=session, document=library.templates()["feature-adoption"])
    workspace.update_workspace(session=session, changes={"physical_address": "1 Main St"})
    assert not done(session)["campaign"] and done(session)["address"]
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    assert all(done(session).values())
    with_resend = {i.key: i for i in checklist.setup_checklist(session=session, resend_configured=True)}
    assert not with_resend["domain"].done and "acme.io is not added" in with_resend["domain"].hint
    session.add(Domain(name="acme.io", resend_id="d", status="verified"))
    session.flush()
    assert all(done(session, resend=True).values())
