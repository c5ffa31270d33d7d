"""PostHog both ways. capture.py: what lower layers call to enqueue engagement in their own transaction;
connection.py: Settings → PostHog; writeback.py: the periodic job that drains the capture outbox; query.py: the query API's one client,
within the deployment's shared budget.
Backfill is services/posthog_backfill.py, outside: it stores through intake and reads campaigns, which
both import capture.py, so inside it would make a circle."""
