"""The warm-up panel's words for a domain: its day and cap, and how many emails wait."""

from humanic_app.services.warmup import WarmupStatus
from humanic_app.state.warmup import warmup_row


def _row(**changes):
    state = dict(enabled=True, ladder=[50, 100], day=2, cap=100, sent_today=100, held=0) | changes
    return warmup_row("1", "acme.io", WarmupStatus(**state), "")


def test_a_capped_day_says_what_went_and_what_waits():
    assert _row().summary == "Day 2 of 2: 100 of 100 sent today." and _row().held == ""
    assert _row(held=1).held == "1 email waits for tomorrow (00:00 UTC)."
    assert _row(held=1200).held == "1,200 emails wait for tomorrow (00:00 UTC)."
    assert _row(ladder=[50, 100]).ladder == "50, 100"


def test_off_not_started_and_done():
    assert _row(enabled=False, day=None, cap=None).summary == "Off: no daily cap."
    assert _row(day=None, cap=None).summary == "Starts the day the domain is verified, at 50 emails."
    assert _row(day=3, cap=None).summary == "Done: the 2-day ladder is over, no daily cap."
