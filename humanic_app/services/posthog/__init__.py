"""PostHog both ways. capture.py: what lower layers call to enqueue engagement in their own transaction;
connection.py: Settings → PostHog; writeback.py: the periodic job that drains the capture outbox."""
