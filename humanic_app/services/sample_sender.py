"""Send PostHog-shaped samples to a source's own webhook URL over HTTP, exactly as PostHog would
(signed with the source's secret and carrying its required header when those are set)."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from humanic_app.services import samples, signing


def send_samples(
    *,
    webhook_url: str,
    signing_secret: str | None = None,
    extra_headers: dict[str, str] | None = None,
    timeout_s: float = 3.0,
) -> list[tuple[str, int]]:
    """Posts one sample per high-signal event; returns (event name, HTTP status) for each, status 0 for one
    that got no answer (the URL unreachable from here, or a header the source stores that HTTP cannot carry)."""
    results = []
    with httpx.Client(timeout=timeout_s) as client:
        for body in samples.sample_events():
            raw = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", "Accept": "application/json", **(extra_headers or {})}
            if signing_secret:
                msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
                headers.update(
                    {
                        "webhook-id": msg_id,
                        "webhook-timestamp": str(stamp),
                        "webhook-signature": signing.sign(
                            secret=signing_secret, msg_id=msg_id, timestamp=stamp, body=raw
                        ),
                    }
                )
            try:
                status = client.post(webhook_url, content=raw, headers=headers).status_code
            except (httpx.HTTPError, httpx.InvalidURL, ValueError):
                status = 0
            results.append((body["event"]["event"], status))
    return results
