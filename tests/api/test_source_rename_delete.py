"""Sources can be renamed and deleted; names are given and unique; a deleted source keeps its history, its URL
answers 404 saying so, and no check counts it."""

from datetime import timedelta

from humanic_app import clock
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


def test_a_source_needs_a_name_of_its_own(authed, source):
    empty = authed.post("/api/v1/sources", json={"name": "  "})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][-1] == "name"
    twin = authed.post("/api/v1/sources", json={"name": "production"})
    assert twin.status_code == 422
    assert "already exists" in twin.json()["detail"][0]["msg"]
    assert [s["name"] for s in authed.get("/api/v1/sources").json()] == ["Production"]


def test_rename_keeps_the_url_and_refuses_a_taken_name(authed, source):
    staging = authed.post("/api/v1/sources", json={"name": "Staging"}).json()
    renamed = authed.patch(f"/api/v1/sources/{source['id']}", json={"name": "Live site"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Live site"
    assert renamed.json()["webhook_url"] == source["webhook_url"]
    taken = authed.patch(f"/api/v1/sources/{staging['id']}", json={"name": "LIVE SITE"})
    assert taken.status_code == 422 and "already exists" in taken.json()["detail"][0]["msg"]
    assert authed.patch(f"/api/v1/sources/{staging['id']}", json={"name": ""}).status_code == 422


def test_delete_keeps_history_answers_404_and_is_not_diagnosed(client, authed, source, engine, monkeypatch):
    assert (
        client.post(
            path_of(source), json=posthog_event(event="signed_up", distinct_id="a", email="a@example.com")
        ).status_code
        == 200
    )
    other = authed.post("/api/v1/sources", json={"name": "Never used"}).json()
    process(engine)
    assert authed.delete(f"/api/v1/sources/{other['id']}").status_code == 204
    assert authed.delete(f"/api/v1/sources/{source['id']}").status_code == 204

    assert authed.get("/api/v1/sources").json() == []
    assert authed.get(f"/api/v1/sources/{source['id']}").json()["status"] == "deleted"
    answer = client.post(path_of(source), json=posthog_event(event="signed_up", distinct_id="b"))
    assert answer.status_code == 404 and "source deleted" in answer.json()["error"]
    events = authed.get("/api/v1/events").json()["items"]
    assert events[0]["outcome"] == "rejected" and "source deleted" in events[0]["reason"]
    assert [e["source_id"] for e in events[1:]] == [source["id"]]  # its history stays

    later = clock.now() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    keys = {f["key"] for f in authed.get("/api/v1/diagnostics").json()["findings"]}
    assert not {k for k in keys if k.endswith((f":{other['id']}", f":{source['id']}"))}
    assert authed.post(f"/api/v1/sources/{source['id']}/activate").status_code == 422
    assert authed.post("/api/v1/sources", json={"name": "Production"}).status_code == 201  # the name is free again
