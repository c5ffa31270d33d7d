"""The dry run predicts exactly what the live engine does: generated event streams — PostHog's default
body and a custom one, timestamps out of order, late deliveries, repeated events and retried deliveries,
`unless` and exit events — go through real ingest and processing, one delivery at a time as the live
worker takes them, with the due emails marked sent between deliveries as the dispatcher would. Then the
dry run replays the same stored events. Contact properties are held fixed and nothing is paused.

Journeys too: generated journeys (wait_for with and without `match`, timeouts, branches on events since
enrolling, properties and engagement, person-property filters, waits with windows in a timezone the
sources' mappings read into a `timezone` variable, exits) — the worker's passes run before each delivery as
they would every second, so timeouts and branches move on when they come due. How many contacts took each
way out of each node is compared too: the dry run's `paths` against the builder's live counts
(`store.node_counts`). Some users have no email (their events have no contact), and a server reports
completions carrying only a cart_id: those resume `match` waits, in both."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import CampaignStatus, Enrolment, Event, Message, MessageStatus, SourceStatus
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.campaigns.dry_run import MAX_LISTED, dry_run
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEEDS = range(16)
CUSTOM_MAPPING = {
    "event_name": "type",
    "user_id": "user",
    "email": "email",
    "event_uuid": "id",
    "timestamp": "at",
    "event_properties": "properties",
    "variables": {"timezone": "properties.tz"},
}
DEFAULT_MAPPING = {"variables": {"timezone": "event.properties.tz"}}
ZONES = ["Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Not/A_Zone"]
PRO = [{"person_property": "plan", "op": "eq", "value": "pro"}]


def _campaign(rng: random.Random, names: dict[str, str], index: int) -> dict:
    where = rng.choice(
        [
            [],
            [{"property": "cart_value", "op": "gt", "value": 50}],
            [{"person_property": "plan", "op": "eq", "value": "pro"}],
        ]
    )
    trigger = {
        "event": rng.choice([names["start"], names["view"]]),
        "where": where,
        "occurrence": rng.choice([1, 1, 2, 3]),
    }
    if rng.random() < 0.5:
        trigger["within"] = rng.choice(["1d", "3d"])
    document = {
        "name": f"Generated {index}",
        "trigger": trigger,
        "reentry": rng.choice(["once", "every_time", "after_exit"]),
        "steps": [
            {"delay": delay, "subject": f"Step {i}", "html": "<p>hi</p>"}
            for i, delay in enumerate(rng.sample(["0", "6h", "1d", "2d", "4d"], rng.randint(1, 3)))
        ],
    }
    if rng.random() < 0.7:
        document["unless"] = {
            "event": names["done"],
            "within": rng.choice(["12h", "2d"]),
            "match": rng.choice([[], ["cart_id"]]),
        }
    if rng.random() < 0.6:
        document["exit_on"] = [names["goal"]]
    return document


def _properties(rng: random.Random) -> dict:
    props = {}
    if rng.random() < 0.8:
        props["cart_value"] = rng.randrange(10, 120)
    if rng.random() < 0.8:
        props["cart_id"] = rng.choice(["c1", "c2", "c3"])
    if rng.random() < 0.6:  # read through the mapping's `timezone` variable, not a property of that name
        props["tz"] = rng.choice(ZONES)
    return props


def _body(user: dict, name: str, at: datetime, props: dict, event_uuid: str) -> dict:
    props = {**props, "$set": {"plan": user["plan"]}}  # the same every time: contact properties held fixed
    if user["custom"]:
        return {
            "type": name,
            "user": user["id"],
            "email": user["email"],
            "id": event_uuid,
            "at": at.isoformat(),
            "properties": props,
        }
    return posthog_event(
        event=name, distinct_id=user["id"], email=user["email"], timestamp=at, properties=props, event_uuid=event_uuid
    )


def _stream(rng: random.Random, names: dict[str, str], seed: int) -> list[tuple[datetime, dict, dict]]:
    """(arrival, user, body) in arrival order: event times spread over six days, most delivered within
    minutes, some a day late, some events repeated, some deliveries retried."""
    users = [
        {
            "id": f"s{seed}u{i}",
            "email": None if i == 0 else f"s{seed}u{i}@example.com",
            "plan": rng.choice(["free", "pro"]),
            "custom": rng.random() < 0.5,
        }
        for i in range(5)
    ]
    weighted = [names["start"]] * 4 + [names["view"]] * 4 + [names["done"]] * 3 + [names["goal"]] * 2 + [names["noise"]]
    stream = []
    for _ in range(rng.randint(25, 40)):
        user, at, name = rng.choice(users), BASE + timedelta(minutes=rng.randrange(6 * 24 * 60)), rng.choice(weighted)
        body = _body(user, name, at, _properties(rng), str(uuid.uuid4()))
        late = rng.random() < (0.5 if name in (names["done"], names["goal"]) else 0.2)
        arrival = at + (timedelta(hours=rng.uniform(2, 30)) if late else timedelta(minutes=rng.uniform(0, 5)))
        stream.append((arrival, user, body))
        if rng.random() < 0.15:  # the same user does it again at the same moment
            stream.append(
                (arrival + timedelta(seconds=1), user, _body(user, name, at, _properties(rng), str(uuid.uuid4())))
            )
        if rng.random() < 0.1:  # PostHog retries the delivery: stored as a duplicate, causes nothing
            stream.append((arrival + timedelta(minutes=rng.uniform(0, 60)), user, body))
    server = {"id": f"s{seed}billing", "email": None, "plan": "free", "custom": False}  # never a contact
    for _ in range(rng.randint(3, 8)):  # the server's completions: only a cart_id, by event time or late
        at = BASE + timedelta(minutes=rng.randrange(6 * 24 * 60))
        body = _body(server, names["done"], at, {"cart_id": rng.choice(["c1", "c2", "c3"])}, str(uuid.uuid4()))
        stream.append((at + timedelta(hours=rng.choice([0, 0, 0, rng.uniform(2, 30)])), server, body))
    stream.sort(key=lambda item: item[0])
    for i in range(1, len(stream)):  # one delivery per moment, as the live worker would take them
        if stream[i][0] <= stream[i - 1][0]:
            stream[i] = (stream[i - 1][0] + timedelta(seconds=1), *stream[i][1:])
    return stream


def _journey(rng: random.Random, names: dict[str, str], index: int) -> dict:
    """A generated journey: a first email, then a wait_for, a branch or both, converging on a thank-you."""
    kind = rng.choice(["wait_for", "branch", "both"])
    steps: list[dict] = [{"id": "first", "delay": rng.choice(["0", "2h"]), "subject": "First", "html": "<p>1</p>"}]
    if kind in ("wait_for", "both"):
        steps.append(
            {
                "id": "w",
                "type": "wait_for",
                "event": names["done"],
                "timeout": rng.choice(["12h", "2d"]),
                "match": rng.choice([[], ["cart_id"]]),
                "where": PRO if index == 1 else [],  # on the waiting contact, whoever sent the event
                "on_event": rng.choice(["done", "thanks"]),
            }
        )
        steps.append({"id": "nudge", "subject": "Nudge", "html": "<p>n</p>"})
    if kind in ("branch", "both"):
        wait: dict = {"type": "wait", "duration": rng.choice(["1h", "1d"])}
        if rng.random() < 0.3:
            wait["until"] = {"between": ["09:00", "17:00"], "days": ["mon", "tue", "wed", "thu", "fri"]}
        condition = rng.choice(
            [
                {"did": names["view"], "where": PRO if index == 2 else []},
                {"property": "cart_value", "op": "gt", "value": 50},
                {"person_property": "plan", "op": "eq", "value": "pro"},
                {"email": "first", "was": "opened"},
            ]
        )
        steps.append(wait)
        steps.append({"id": "b", "type": "branch", "paths": [{"name": "yes", "when": [condition], "then": "thanks"}]})
        steps.append({"id": "else-mail", "delay": "1d", "subject": "Else", "html": "<p>e</p>", "next": "done"})
    steps.append({"id": "thanks", "subject": "Thanks", "html": "<p>t</p>"})
    steps.append({"id": "done", "type": "exit"})
    document = {
        "name": f"Journey {index}",
        "trigger": {"event": rng.choice([names["start"], names["view"]])},
        "reentry": rng.choice(["once", "every_time", "after_exit"]),
        "steps": steps,
    }
    if rng.random() < 0.4:
        document["exit_on"] = [names["goal"]]
    return document


def _passes(session: Session) -> None:
    while processing.process_pending(session=session):
        pass
    session.commit()


def _deliver(session: Session, source, body: dict, arrival: datetime, monkeypatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: arrival)
    _passes(session)  # the worker looked just before: what came due by now has moved on
    session.execute(
        update(Message)
        .where(Message.status == MessageStatus.scheduled, Message.due_at < arrival)
        .values(status=MessageStatus.sent)
    )  # the dispatcher sent what fell due meanwhile
    events = payloads.parse_body(json.dumps(body).encode(), source.mapping)
    storing.store_deliveries(
        session=session, deliveries=[storing.Delivery(source_id=source.id, headers={}, events=events)]
    )
    while processing.process_pending(session=session):
        pass
    session.commit()


def _resumed_without_contact(session: Session) -> int:
    events = session.exec(select(Event).where(col(Event.contact_id).is_(None)))
    return sum(1 for e in events for d in e.decisions or [] if d.get("resumed"))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _engine_outcome(session: Session, campaign_id: int) -> tuple[set, list]:
    enrolments = {
        (e.trigger_event_id, e.contact_id, e.status.value)
        for e in session.exec(select(Enrolment).where(Enrolment.campaign_id == campaign_id))
    }
    emails = sorted(
        (m.contact_id, m.step_index, _as_utc(m.due_at))
        for m in session.exec(
            select(Message).where(Message.campaign_id == campaign_id, Message.status != MessageStatus.cancelled)
        )
    )
    return enrolments, emails


def _predicted(result: dict) -> tuple[set, list]:
    assert result["enrolments"] < MAX_LISTED and result["emails"] < MAX_LISTED  # nothing left out of the lists
    enrolments = {(e["event_id"], e["contact_id"], e["status"]) for e in result["enrolment_sample"]}
    emails = sorted(
        (e["contact_id"], e["step"], _as_utc(datetime.fromisoformat(e["due_at"]))) for e in result["sample"]
    )
    return enrolments, emails


def _setup(session: Session):
    workspace.update_workspace(
        session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St", "frequency_cap": 0}
    )
    default = sources.create_source(session=session, name="PostHog")
    custom = sources.create_source(session=session, name="Custom")
    session.flush()
    sources.update_mapping(session=session, source_id=custom.id, mapping=CUSTOM_MAPPING)
    sources.update_mapping(session=session, source_id=default.id, mapping=DEFAULT_MAPPING)
    for source in (default, custom):
        sources.set_status(session=session, source_id=source.id, status=SourceStatus.active)
    session.commit()
    return default, custom


@pytest.mark.parametrize("kind", ["linear", "journey"])
def test_the_dry_run_predicts_the_engines_enrolments_and_emails(session, monkeypatch, kind):
    default, custom = _setup(session)
    compared = {"enrolments": 0, "emails": 0, "cancelled": 0}
    paths: dict[str, int] = {}
    for seed in SEEDS:
        rng = random.Random(seed)
        names = {kind: f"{kind}_{seed}" for kind in ("start", "view", "done", "goal", "noise")}
        make = _campaign if kind == "linear" else _journey
        documents = [make(rng, names, i) for i in range(3)]
        campaigns = []
        for document in documents:
            campaign = store.create_campaign(session=session, document=document)
            store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
            campaigns.append(campaign)
        session.commit()
        for arrival, user, body in _stream(rng, names, seed):
            _deliver(session, custom if user["custom"] else default, body, arrival, monkeypatch)

        monkeypatch.setattr(clock, "now", lambda: BASE + timedelta(days=20))
        _passes(session)
        for campaign, document in zip(campaigns, documents, strict=True):
            engine_did = _engine_outcome(session, campaign.id)
            result = dry_run(session=session, document=document, days=30)
            predicted = _predicted(result)
            for label, took in result["paths"].items():
                for way, n in took.items():
                    paths[f"{label.split(' ', 2)[-1]} {way}"] = paths.get(f"{label.split(' ', 2)[-1]} {way}", 0) + n
            assert predicted == engine_did, f"seed {seed}, campaign {document}"
            # how many took each way out of each node: the dry run's paths and the builder's live counts
            live = store.node_counts(session=session, campaign_id=campaign.id)
            assert result["paths"] == {c["label"]: c["took"] for c in live.values() if c["took"]}, f"seed {seed}"
            compared["enrolments"] += len(engine_did[0])
            compared["emails"] += len(engine_did[1])
            compared["cancelled"] += sum(1 for _, _, status in engine_did[0] if status != "active")
            store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
        session.commit()
    # the streams exercised what they are meant to, not only empty predictions
    if kind == "linear":
        assert compared["enrolments"] > 20 and compared["emails"] > 30 and compared["cancelled"] > 3, compared
        return
    assert compared["enrolments"] > 20 and compared["emails"] > 30, compared
    assert _resumed_without_contact(session) > 3, compared
    # every way out of every node kind was taken somewhere
    for way in ("happened", "timed out", "yes", "else"):
        assert any(key.endswith(f" {way}") and n for key, n in paths.items()), (way, paths)
