"""What the builder's live counts say to a screen reader: one short, throttled summary of how contacts moved,
nothing on load; and which emails the outbox's counts (Messages, Dashboard, Archive) cannot include yet."""

from humanic_app.services.campaigns import library
from humanic_app.state import campaigns, journey_counts, journey_form as form

ROWS = [
    form.node_row({"id": "hi", "subject": "Hi {{ name }}", "html": "<p>x</p>"}),
    form.node_row({"id": "hold", "type": "wait_for", "event": "checkout_completed", "timeout": "1d"}),
    form.node_row({"id": "nudge", "subject": "Still there?", "html": "<p>x</p>"}),
]
LABELS = journey_counts.short_labels(ROWS)


def test_a_move_is_said_in_one_line_naming_the_steps_without_template_text():
    assert LABELS == {"hi": "Step 1 (email)", "hold": "Step 2 (wait for checkout_completed)", "nudge": "Step 3 (email)"}
    before = {"hi": [0, 0], "hold": [0, 0], "nudge": [0, 0]}
    after = {"hi": [0, 2], "hold": [1, 1], "nudge": [0, 1]}
    assert journey_counts.moves(before, after, LABELS) == (
        "Contacts moved: 2 more passed Step 1 (email); 1 more waiting at Step 2 (wait for checkout_completed); "
        "1 more passed Step 2 (wait for checkout_completed); and 1 more change."
    )
    assert journey_counts.moves(after, after, LABELS) == ""
    left = journey_counts.moves({"hold": [2, 0]}, {"hold": [1, 0]}, LABELS)  # left on an exit event, not passed
    assert left == "Contacts moved: 1 fewer waiting at Step 2 (wait for checkout_completed)."


def test_summaries_are_throttled_and_what_was_not_said_adds_up():
    heard = journey_counts.tally({"hold": {"waiting": 0, "passed": 0}})
    said, heard = journey_counts.announce(heard, {"hold": [1, 0]}, LABELS, quiet_for=3600)
    assert said == "Contacts moved: 1 more waiting at Step 2 (wait for checkout_completed)."
    said, kept = journey_counts.announce(heard, {"hold": [3, 0]}, LABELS, quiet_for=3)  # too soon: nothing
    assert (said, kept) == ("", heard)
    said, heard = journey_counts.announce(kept, {"hold": [4, 0]}, LABELS, quiet_for=10)  # the sum since
    assert said == "Contacts moved: 3 more waiting at Step 2 (wait for checkout_completed)."
    assert journey_counts.announce(heard, {"hold": [4, 0]}, LABELS, quiet_for=60) == ("", {"hold": [4, 0]})


def test_emails_after_a_wait_for_or_a_branch_are_written_later():
    assert form.written_later(ROWS) == [False, False, True]
    straight = [form.node_row({"subject": "a", "html": "b"}), form.node_row({"type": "wait", "duration": "1d"})]
    assert form.written_later([*straight, form.node_row({"subject": "c", "html": "d"})]) == [False, False, False]
    steps = library.templates()["re-engagement"]["steps"]  # email, wait, branch, email, email, exit
    assert form.written_later([form.node_row(s) for s in steps]) == [False, False, False, True, True, False]


def test_archive_says_the_count_leaves_out_emails_not_reached_yet():
    said = campaigns._archive_consequence(2, later_emails=True)
    assert said.startswith("It stops for good and cancels 2 scheduled emails;")
    assert "scheduled only when a contact gets there, so they are not in this count" in said
    assert "not in this count" not in campaigns._archive_consequence(2, later_emails=False)
    assert campaigns._has_later_emails(library.templates()["re-engagement"])
    assert not campaigns._has_later_emails({"steps": [{"subject": "a", "html": "b"}]})
