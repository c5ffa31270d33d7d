from humanic_app.services.samples import posthog_event
from humanic_app.settings import get_settings
from tests.support.webhooks import path_of, process


def test_metrics_need_a_key_or_the_token_and_report_backlogs(client, authed, source, engine, monkeypatch):
    client.post(path_of(source), json=posthog_event(event="a", distinct_id="d1", email="a@example.com"))
    client.post(path_of(source), content=b"{bad")
    text = authed.get("/metrics").text
    assert f'humanic_events_received_total{{source_id="{source["id"]}"}} 1' in text
    assert 'humanic_rejected_deliveries_total{reason="400 The body is not valid JSON"} 1' in text
    assert "humanic_processing_backlog 1" in text
    assert 'humanic_webhook_answer_seconds_bucket{le="+Inf"} 2' in text
    assert "humanic_webhook_answer_seconds_count 2" in text
    buckets = [
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("humanic_webhook_answer_seconds_bucket")
    ]
    assert buckets == sorted(buckets)  # cumulative, as Prometheus expects
    process(engine)
    text = authed.get("/metrics").text
    assert "humanic_processing_backlog 0" in text
    assert 'humanic_messages{status="scheduled"} 0' in text

    del client.headers["Authorization"]
    assert client.get("/metrics").status_code == 401
    monkeypatch.setenv("HUMANIC_METRICS_TOKEN", "scrape-me")
    get_settings.cache_clear()
    try:
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        get_settings.cache_clear()
