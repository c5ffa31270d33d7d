"""Templates are checked where a person can still fix them: at save (unknown filters and tests, in the
sending environment, wherever they sit), at activation and at Send test (a real render)."""

import pytest
from sqlmodel import select

from humanic_app.models import Campaign, CampaignStatus, Message
from humanic_app.services.campaigns import store
from humanic_app.services.campaigns.preview import queue_test_send
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import T0, World


def _doc(html: str, subject: str = "Hello", text: str | None = None) -> dict:
    step = {"delay": 0, "subject": subject, "html": html, **({"text": text} if text else {})}
    return {
        "name": "Welcome",
        "trigger": {"event": "user_signed_up"},
        "steps": [{"delay": 0, "subject": "Hi", "html": "<p>Hi</p>"}, step],
    }


@pytest.mark.parametrize(
    "html,field,error",
    [
        (
            "{{ name | capitalise }}",
            "steps.1.html",
            "Unknown filter 'capitalise' in step 2 HTML, line 1 — did you mean 'capitalize'?",
        ),
        (
            "<p>\n{% if name %}{{ name | capitalise }}{% endif %}</p>",
            "steps.1.html",
            "Unknown filter 'capitalise' in step 2 HTML, line 2 — did you mean 'capitalize'?",
        ),
        (
            "{% if plan is evn %}x{% endif %}",
            "steps.1.html",
            "Unknown test 'evn' in step 2 HTML, line 1 — did you mean 'even'?",
        ),
    ],
)
def test_save_refuses_unknown_filters_and_tests(session, html, field, error):
    with pytest.raises(ValidationFailed) as refused:
        store.create_campaign(session=session, document=_doc(html))
    assert refused.value.field_errors == {field: error}


def test_save_checks_subject_and_text_too(session):
    with pytest.raises(ValidationFailed) as refused:
        store.create_campaign(
            session=session, document=_doc("<p>ok</p>", subject="{{ name | upcase }}", text="{{ name | titel }}")
        )
    assert refused.value.field_errors == {
        "steps.1.subject": "Unknown filter 'upcase' in step 2 subject, line 1.",
        "steps.1.text": "Unknown filter 'titel' in step 2 text, line 1 — did you mean 'title'?",
    }


@pytest.mark.parametrize(
    "html,reason",
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{% for i in range(10 ** 7) %}.{% endfor %}", "too large for the sandbox"),
        ("{{ name.__class__.mro() }}", "sandbox forbids"),
    ],
)
def test_activation_and_send_test_refuse_a_step_that_cannot_render(session, html, reason):
    World(session)
    campaign = store.create_campaign(session=session, document=_doc(html))
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    assert 'Step 2 (email "Hello") cannot be rendered on the sample event' in refused.value.field_errors["steps.1"]
    assert reason in refused.value.field_errors["steps.1"]
    with pytest.raises(ValidationFailed) as refused:
        queue_test_send(
            session=session,
            document=campaign.definition,
            step_index=1,
            to="me@acme.io",
            variables={"name": "Ada"},
            campaign_id=campaign.id,
        )
    assert reason in refused.value.field_errors["step"]
    session.rollback()
    assert session.get(Campaign, campaign.id).status == CampaignStatus.draft
    assert session.exec(select(Message)).all() == []


def test_activation_renders_on_the_latest_matching_event(session):
    world = World(session)
    campaign = store.create_campaign(session=session, document=_doc("{{ 100 / (plan | length) }}"))
    session.commit()
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)  # sample: plan "free"
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.paused)
    session.commit()
    world.send("user_signed_up", T0, plan="")
    with pytest.raises(ValidationFailed) as refused:
        store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    assert "on event #" in refused.value.field_errors["steps.1"]
    assert "division by zero" in refused.value.field_errors["steps.1"]


@pytest.mark.parametrize(
    "html,reason",
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ name | capitalise }}", "did you mean 'capitalize'"),
        ("{% if name %}{{ name | capitalise }}{% endif %}", "Unknown filter"),
    ],
)
def test_preview_shows_the_render_error_instead_of_a_blank_frame(session, html, reason):
    from humanic_app.services.campaigns import preview

    result = preview.preview_step(session=session, document=_doc(html), step_index=1, event=None)
    assert reason in result["error"] and result["html"] == ""
    healthy = preview.preview_step(session=session, document=_doc(html), step_index=0, event=None)
    assert healthy["error"] == "" and "Hi" in healthy["html"]
