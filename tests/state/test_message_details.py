"""The message view lists only what is known about an email: a scheduled one has no sender, provider id or
send time yet, and shows no empty labels for them."""

from humanic_app.state.messages import DetailRow, detail_rows

SCHEDULED = {
    "to": "ada@example.com",
    "from": "",
    "status": "scheduled",
    "due_at": "2026-01-03T09:00:00+00:00",
    "sent_at": None,
    "step": 1,
    "is_test": False,
    "sent_via": "",
    "provider_message_id": None,
    "attempts": 0,
}


def test_a_scheduled_email_shows_its_campaign_and_due_time_only():
    assert detail_rows(SCHEDULED, "Onboarding") == [
        DetailRow("Campaign", "Onboarding · step 2"),
        DetailRow("Due (UTC)", "2026-01-03 09:00"),
    ]


def test_a_sent_email_shows_who_sent_it_when_and_how():
    sent = {
        **SCHEDULED,
        "from": "Acme <hi@acme.io>",
        "status": "sent",
        "sent_at": "2026-01-03T09:00:05+00:00",
        "sent_via": "local",
        "provider_message_id": "local-7",
        "attempts": 1,
        "is_test": True,
    }
    assert [(d.label, d.value) for d in detail_rows(sent, "")] == [
        ("From", "Acme <hi@acme.io>"),
        ("Campaign", "Test send"),
        ("Sent (UTC)", "2026-01-03 09:00"),
        ("Sent via", "Local outbox"),
        ("Provider id", "local-7"),
        ("Attempts", "1"),
    ]
