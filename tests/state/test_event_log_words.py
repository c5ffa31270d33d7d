"""The Event Log's words: why it is empty, and how the live region sums up a burst."""

from humanic_app.state.event_log import COUNT_CAP, empty_situation, new_events_summary


def test_the_empty_log_says_why():
    assert empty_situation(filtered=True, has_sources=True) == "no_match"
    assert empty_situation(filtered=True, has_sources=False) == "no_match"
    assert empty_situation(filtered=False, has_sources=False) == "not_connected"
    assert empty_situation(filtered=False, has_sources=True) == "waiting"


def test_a_burst_is_summed_up_in_one_line():
    assert new_events_summary(1) == "1 new event"
    assert new_events_summary(240) == "240 new events"
    assert new_events_summary(COUNT_CAP) == f"{COUNT_CAP}+ new events"
