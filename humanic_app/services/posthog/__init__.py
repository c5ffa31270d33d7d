"""PostHog both ways. capture.py: what lower layers call to enqueue engagement in their own transaction;
connection.py: Settings → PostHog; writeback.py: the periodic job that drains the capture outbox;
query.py: the query API's one client, within the deployment's shared budget.
Backfill (services/posthog_backfill.py), pull-only mode (posthog_pull.py) and reconciliation live outside:
they store through intake and read campaigns, which both import capture.py, so inside they would make a
circle."""
