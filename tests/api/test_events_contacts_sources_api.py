from datetime import timedelta

from sqlmodel import Session

from humanic_app import clock
from humanic_app.services import event_log, retention
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


def test_sources_lifecycle(authed):
    assert authed.post("/api/v1/sources", json={"name": " "}).status_code == 422
    prod = authed.post("/api/v1/sources", json={"name": "Production"}).json()
    staging = authed.post("/api/v1/sources", json={"name": "Staging"}).json()
    assert prod["status"] == "waiting_for_test_event"
    assert prod["webhook_url"].startswith("http://testserver/api/webhooks/posthog/")
    assert prod["webhook_url"] != staging["webhook_url"]
    assert len(prod["webhook_url"].rsplit("/", 1)[1]) >= 22  # ≥ 128 bits, url-safe base64
    assert [s["name"] for s in authed.get("/api/v1/sources").json()] == ["Production", "Staging"]
    assert authed.post(f"/api/v1/sources/{prod['id']}/pause").status_code == 422  # nothing received yet
    assert authed.post(f"/api/v1/sources/{prod['id']}/activate").json()["status"] == "active"
    assert authed.post(f"/api/v1/sources/{prod['id']}/pause").json()["status"] == "paused"
    assert authed.post(f"/api/v1/sources/{prod['id']}/activate").json()["status"] == "active"
    assert authed.get("/api/v1/sources/999").status_code == 404
    authed.put("/api/v1/settings", json={"public_url": "https://humanic.acme.io"})
    assert (
        authed.get(f"/api/v1/sources/{prod['id']}")
        .json()["webhook_url"]
        .startswith("https://humanic.acme.io/api/webhooks/posthog/")
    )
    mapping = authed.get(f"/api/v1/sources/{prod['id']}/mapping").json()
    assert mapping["effective"]["email"][0] == "person.properties.email"


def test_events_filters_and_cursor(client, authed, source, engine):
    for i in range(5):
        client.post(
            path_of(source),
            json=posthog_event(event="a" if i % 2 else "b", distinct_id=f"d{i}", email=f"u{i}@example.com"),
        )
    client.post(path_of(source), content=b"{bad")
    process(engine)
    page1 = authed.get("/api/v1/events", params={"limit": 2}).json()
    assert len(page1["items"]) == 2 and page1["items"][0]["outcome"] == "rejected"
    page2 = authed.get("/api/v1/events", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    ids = [e["id"] for e in page1["items"] + page2["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert {e["event"] for e in authed.get("/api/v1/events", params={"event": "a"}).json()["items"]} == {"a"}
    assert len(authed.get("/api/v1/events", params={"outcome": "processed"}).json()["items"]) == 5
    assert authed.get("/api/v1/events", params={"outcome": "nope"}).status_code == 422
    one = authed.get("/api/v1/events", params={"event": "b", "limit": 1}).json()["items"][0]
    detail = authed.get(f"/api/v1/events/{one['id']}").json()
    assert detail["payload"]["event"]["event"] == "b" and detail["mapped"]["email"].endswith("@example.com")
    by_contact = authed.get("/api/v1/events", params={"contact_id": detail["contact_id"]}).json()["items"]
    assert [e["id"] for e in by_contact] == [one["id"]]


def test_a_pruned_event_keeps_its_row_and_decisions_without_its_payload(client, authed, source, engine):
    client.post(path_of(source), json=posthog_event(event="a", distinct_id="d1", email="u1@example.com"))
    process(engine)
    one = authed.get("/api/v1/events").json()["items"][0]
    with Session(engine) as session:
        later = clock.now() + timedelta(days=91)
        assert retention.prune_batch(session=session, now=later).events == 1
        session.commit()
    detail = authed.get(f"/api/v1/events/{one['id']}").json()
    assert (detail["payload"], detail["headers"], detail["mapped"]) == (None, None, None)
    assert detail["pruned_at"] is not None
    assert detail["decisions"] == one["decisions"] and detail["event"] == "a"
    assert detail["contact_id"] == one["contact_id"] is not None


def test_the_event_name_filter_matches_any_part_in_any_case(client, authed, source, engine):
    for name in ("user_signed_up", "signed_out", "plan_chosen", "100%_done"):
        client.post(path_of(source), json=posthog_event(event=name, distinct_id=f"d-{name}"))
    process(engine)

    def named(part: str) -> set[str]:
        return {e["event"] for e in authed.get("/api/v1/events", params={"event": part}).json()["items"]}

    assert named("SIGNED") == {"user_signed_up", "signed_out"}
    assert named("_chos") == {"plan_chosen"}
    assert named("%") == {"100%_done"}  # % and _ are literal, not wildcards
    assert named("1_0") == set()  # would match "100" as a wildcard


def test_a_page_of_newer_events_and_a_bounded_count_of_arrivals(client, authed, source, engine):
    for i in range(7):
        client.post(path_of(source), json=posthog_event(event="n" if i % 2 else "m", distinct_id=f"n{i}"))
    process(engine)
    with Session(engine) as session:
        ids = [e.id for e in event_log.list_events(session=session, limit=50)]
        oldest = ids[-1]
        # the three just above the oldest, newest first: the page before it, not the newest three
        assert [e.id for e in event_log.newer_page(session=session, after_id=oldest, limit=3)] == ids[-4:-1]
        assert [e.event_name for e in event_log.newer_page(session=session, after_id=oldest, event_name="n")] == [
            "n"
        ] * 3
        assert event_log.count_newer(session=session, after_id=oldest) == 6
        assert event_log.count_newer(session=session, after_id=oldest, cap=4) == 4
        assert event_log.count_newer(session=session, after_id=oldest, event_name="m") == 3


def test_contacts_search(client, authed, source, engine):
    client.post(
        path_of(source),
        json=posthog_event(event="x", distinct_id="user_8412", email="ada@example.com", name="Ada Lovelace"),
    )
    client.post(path_of(source), json=posthog_event(event="x", distinct_id="user_9", email="bob@example.com"))
    process(engine)
    assert [c["email"] for c in authed.get("/api/v1/contacts", params={"q": "lovelace"}).json()["items"]] == [
        "ada@example.com"
    ]
    assert [c["email"] for c in authed.get("/api/v1/contacts", params={"q": "8412"}).json()["items"]] == [
        "ada@example.com"
    ]
    assert [
        c["email"] for c in authed.get("/api/v1/contacts", params={"email": "BOB@example.com"}).json()["items"]
    ] == ["bob@example.com"]
    assert len(authed.get("/api/v1/contacts").json()["items"]) == 2
