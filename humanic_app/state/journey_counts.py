"""What the journey builder's live count poll says to a screen reader: one short summary of how the counts
moved since it last spoke, at most every ANNOUNCE_EVERY_SECONDS, never each number (the Event Log's live
region works the same way). What is on screen when a journey opens is the starting point: nothing is said
on load."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from humanic_app.state.journey_form import KIND_WORDS, NodeRow

ANNOUNCE_EVERY_SECONDS = 10.0
MOST_CHANGES = 3  # said by name; more are summed up as "and N more changes"

Tally = dict[str, list[int]]  # node id → [waiting, passed]


def tally(counts: Mapping[str, Mapping[str, Any]]) -> Tally:
    """The waiting and passed numbers of `store.node_counts`, by node id."""
    return {key: [int(c.get("waiting", 0)), int(c.get("passed", 0))] for key, c in counts.items()}


def short_labels(rows: list[NodeRow]) -> dict[str, str]:
    """Each node by id as a listener needs it: "Step 2 (wait for checkout_completed)", an email without its
    subject (template text read aloud is noise)."""
    named = {}
    for index, row in enumerate(rows):
        what = f"wait for {row.event}" if row.kind == "wait_for" and row.event else KIND_WORDS[row.kind].lower()
        named[row.id or f"step-{index + 1}"] = f"Step {index + 1} ({what})"
    return named


def moves(before: Tally, after: Tally, labels: Mapping[str, str]) -> str:
    """How the counts moved from `before` to `after`, in one sentence ("" when they did not)."""
    changes = []
    for key, (waiting, passed) in after.items():
        was_waiting, was_passed = before.get(key, [0, 0])
        label = labels.get(key, key)
        if waiting > was_waiting:
            changes.append(f"{waiting - was_waiting} more waiting at {label}")
        elif waiting < was_waiting and passed <= was_passed:  # left without passing: an exit_on, an archive
            changes.append(f"{was_waiting - waiting} fewer waiting at {label}")
        if passed > was_passed:
            changes.append(f"{passed - was_passed} more passed {label}")
    if not changes:
        return ""
    more = len(changes) - MOST_CHANGES
    said = changes[:MOST_CHANGES] + ([f"and {more} more change{'s' if more > 1 else ''}"] if more > 0 else [])
    return "Contacts moved: " + "; ".join(said) + "."


def announce(heard: Tally, current: Tally, labels: Mapping[str, str], *, quiet_for: float) -> tuple[str, Tally]:
    """What to say now and what has then been heard. Within ANNOUNCE_EVERY_SECONDS (`quiet_for`: seconds since
    the last summary) nothing is said and what is unheard adds up for the next summary."""
    if quiet_for < ANNOUNCE_EVERY_SECONDS:
        return "", heard
    return moves(heard, current, labels), current
