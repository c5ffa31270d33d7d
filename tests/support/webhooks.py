"""Reaching the PostHog webhook: its path on the test client, one processing pass, and a POST over real HTTP
as PostHog's destination sends it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sqlmodel import Session

from humanic_app.services import processing

# The webhook answers once the delivery is stored; on a machine whose cores are busy with other work that
# can take seconds, and a slow answer is not what these tests are about.
POST_TIMEOUT_S = 30


def path_of(source: dict) -> str:
    return "/api/webhooks/posthog/" + source["webhook_url"].rsplit("/", 1)[1]


def process(engine) -> int:
    with Session(engine) as s:
        return processing.process_pending(session=s)


def post_like_posthog(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
