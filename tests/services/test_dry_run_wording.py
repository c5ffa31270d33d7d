"""The dry run's sentence counts emails per email step, named as the builder names them: a wait, a
wait_for or a branch sends no email, so it is not listed as "step N: 0" (its paths are counted apart). When
a branch asks about engagement, the dry run says it cannot know it and which path that leaves."""

from datetime import timedelta

from humanic_app.services.campaigns.dry_run import NO_ENGAGEMENT, dry_run
from humanic_app.state.campaigns import dry_run_path_lines, dry_run_sentence
from tests.support.campaign_world import T0
from tests.support.journey_world import JourneyWorld

H = timedelta(hours=1)


def test_the_sentence_names_email_steps_only_and_paths_stay_apart(session, monkeypatch):
    world = JourneyWorld(session, monkeypatch)
    world.send("started", T0, user="a", email="a@example.com")
    world.at(T0 + 2 * H)
    document = {
        "name": "Words",
        "trigger": {"event": "started"},
        "steps": [
            {"id": "hello", "delay": "0", "subject": "Hello", "html": "<p>hi</p>"},
            {"id": "pause", "type": "wait", "duration": "1h"},
            {"id": "check", "type": "wait_for", "event": "finished", "timeout": "30m"},
            {"id": "nudge", "delay": "0", "subject": "Nudge", "html": "<p>go on</p>"},
        ],
    }
    result = dry_run(session=session, document=document, days=30)
    said = dry_run_sentence(result, 30)
    assert 'sent 2 emails (Step 1 (email "Hello"): 1; Step 4 (email "Nudge"): 1)' in said
    assert "step 2" not in said.lower() and "step 3" not in said.lower()
    assert result["paths"] == {"Step 3 (wait for finished)": {"timed out": 1}}


def test_a_branch_on_engagement_is_counted_as_not_met_and_the_dry_run_says_so(session, monkeypatch):
    world = JourneyWorld(session, monkeypatch)
    world.send("started", T0, user="a", email="a@example.com")
    world.at(T0 + 2 * H)
    document = {
        "name": "Opened?",
        "trigger": {"event": "started"},
        "steps": [
            {"id": "hello", "delay": "0", "subject": "Hello", "html": "<p>hi</p>"},
            {"type": "wait", "duration": "1h"},
            {"type": "branch", "paths": [{"name": "opened", "when": [{"email": "hello", "was": "opened"}]}]},
            {"id": "again", "delay": "0", "subject": "Again", "html": "<p>again</p>"},
        ],
    }
    result = dry_run(session=session, document=document, days=30)
    assert result["engagement"] == NO_ENGAGEMENT
    assert result["paths"] == {"Step 3 (branch)": {"else": 1}}  # the path a contact takes when it is unknown
    assert dry_run_path_lines(result) == [
        "Step 3 (branch): else 1",
        "A dry run cannot know opens, clicks or deliveries: engagement conditions are counted as not met, the "
        "path a contact takes when engagement is unknown.",
    ]
    document["steps"][2]["paths"][0]["when"] = [{"did": "finished"}]
    result = dry_run(session=session, document=document, days=30)
    assert result["engagement"] == "" and dry_run_path_lines(result) == ["Step 3 (branch): else 1"]
