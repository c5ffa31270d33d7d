"""Operations: the web process restarts its background worker when it dies, and nothing accepted is lost:
an event stored while the worker was down is processed by the new one."""

from __future__ import annotations

import os
import signal

from humanic_app.services.samples import posthog_event
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog


def test_killed_worker_is_restarted_and_catches_up(signed_in_page, app):
    api = signed_in_page.request
    source = api.post(f"{app.url}/api/v1/sources", data={"name": "Restart journey"}).json()
    hook = source["webhook_url"].replace("http://testserver", app.url)

    (old_pid,) = wait_until(app.background_workers, what="a background worker")
    os.kill(old_pid, signal.SIGKILL)
    assert (
        post_like_posthog(
            hook, posthog_event(event="user_signed_up", distinct_id="restart_1", email="restart@example.com")
        )
        == 200
    )

    new_pids = wait_until(lambda: [p for p in app.background_workers() if p != old_pid], what="a new background worker")
    assert len(new_pids) == 1

    def processed():
        events = api.get(f"{app.url}/api/v1/events?source_id={source['id']}").json()["items"]
        return events and events[0]["outcome"] == "processed"

    wait_until(processed, what="processing of the event stored while the worker was down")
