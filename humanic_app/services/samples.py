"""PostHog-shaped sample events (the high-signal events a marketer starts with), in the exact default-body shape
PostHog's webhook destination sends, so the whole flow can be tried without PostHog."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

HIGH_SIGNAL_EVENTS = [
    ("user_signed_up", "New user created an account", "Onboarding sequence"),
    ("onboarding_step_completed", "User progressed through setup", "Step-specific nudge"),
    ("feature_first_used", "User activated a core feature", "Feature adoption email"),
    ("session_ended", "User left without completing a key action", "Drop-off recovery"),
    ("subscription_upgraded", "User converted to paid", "Welcome to paid / upsell"),
    ("inactive_7_days", "No session in 7 days (if tracked)", "Re-engagement email"),
]

_SAMPLE_PROPERTIES: dict[str, dict[str, Any]] = {
    "user_signed_up": {"signup_method": "google", "plan": "free"},
    "onboarding_step_completed": {"step": 2, "step_name": "invite_team"},
    "feature_first_used": {"feature_name": "Dashboards"},
    "session_ended": {"last_page": "/checkout", "duration_s": 412},
    "subscription_upgraded": {"plan": "pro", "mrr": 49},
    "inactive_7_days": {"days_inactive": 7},
}


def posthog_event(
    *,
    event: str,
    distinct_id: str,
    email: str | None = None,
    name: str | None = None,
    properties: dict[str, Any] | None = None,
    person: bool = True,
    timestamp: datetime | None = None,
    event_uuid: str | None = None,
    person_id: str | None = None,
) -> dict[str, Any]:
    """One body exactly as PostHog's default webhook template sends it (contract §2, Example A)."""
    stamp = (timestamp or datetime.now(UTC)).astimezone(UTC)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    event_uuid = event_uuid or str(uuid.uuid4())
    props = {"$lib": "posthog-node", "$lib_version": "4.2.1", **(properties or {})}
    person_props = {}
    if email:
        person_props["email"] = email
    if name:
        person_props["name"] = name
    return {
        "event": {
            "uuid": event_uuid,
            "event": event,
            "elements_chain": "",
            "distinct_id": distinct_id,
            "properties": props,
            "timestamp": iso,
            "captured_at": iso,
            "url": f"https://us.posthog.com/project/1/events/{event_uuid}/{iso}",
        },
        "person": {
            "id": person_id or str(uuid.uuid5(uuid.NAMESPACE_URL, "person:" + distinct_id)),
            "properties": person_props,
            "name": email or distinct_id,
            "url": f"https://us.posthog.com/project/1/person/{distinct_id}",
        }
        if person
        else None,
    }


def sample_events(*, email: str = "ada@example.com", name: str = "Ada Lovelace") -> list[dict[str, Any]]:
    """One sample per high-signal event, for one made-up user."""
    return [
        posthog_event(
            event=event,
            distinct_id="sample_user_1",
            email=email,
            name=name,
            properties=_SAMPLE_PROPERTIES.get(event, {}),
        )
        for event, _, _ in HIGH_SIGNAL_EVENTS
    ]
