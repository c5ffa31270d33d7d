"""How counts and field names read in the UI's words."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 email', '6 emails', '0 contacts'."""
    return f"{count} {noun if count == 1 else (plural_form or noun + 's')}"


_CAMPAIGN_FIELDS = {
    "name": "Name",
    "trigger.event": "Trigger event",
    "trigger.occurrence": "Only on occurrence #",
    "trigger.within": "Counted within",
    "trigger.in_cohort": "Only contacts in cohort",
    "unless.event": "Unless this event happens first",
    "unless.within": "Unless … within",
    "unless.match": "With the same",
    "exit_on": "Exit when",
    "reentry": "Re-entry",
    "emails_per_minute": "Emails per minute",
    "quiet_hours": "Quiet hours",
    "quiet_hours.between": "Quiet hours · window",
    "quiet_hours.between.0": "Quiet hours · from",
    "quiet_hours.between.1": "Quiet hours · to",
    "quiet_hours.days": "Quiet hours · days",
    "steps": "Emails",
    "document": "Campaign",
    "status": "Status",
    "yaml": "YAML",
}
_STEP_FIELDS = {
    "delay": "Delay",
    "subject": "Subject",
    "html": "HTML",
    "text": "Plain-text part",
    "until_time": "Time",
    "until_start": "From",
    "until_end": "To",
    "until_days": "On days",
}
_BLOCK_FIELDS = {"url": "URL", "alt": "Alt text", "markdown": "Text", "colour": "Colour", "html": "HTML"}
_CONDITION_FIELDS = {"property": "property", "person_property": "person property", "op": "operator", "value": "value"}


def campaign_field(loc: str) -> str:
    """A campaign document's error location as the builder names it: 'steps.0.html' → 'Step 1 · HTML',
    'trigger.where.1.op' → 'Condition 2 · operator' (the builder numbers from 1)."""
    parts = loc.split(".")
    if len(parts) >= 2 and parts[0] == "steps" and parts[1].isdigit():
        if len(parts) > 3 and parts[2] == "blocks" and parts[3].isdigit():
            return f"Step {int(parts[1]) + 1} · " + _block_field(parts[3:])
        field = _STEP_FIELDS.get(parts[2], parts[2]) if len(parts) > 2 else ""
        return f"Step {int(parts[1]) + 1}" + (f" · {field}" if field else "")
    if len(parts) >= 3 and parts[:2] == ["trigger", "where"] and parts[2].isdigit():
        field = _CONDITION_FIELDS.get(parts[3], parts[3]) if len(parts) > 3 else ""
        return f"Condition {int(parts[2]) + 1}" + (f" · {field}" if field else "")
    return _CAMPAIGN_FIELDS.get(loc, loc.replace("_", " ").replace(".", " · ").capitalize())


def _block_field(parts: list[str]) -> str:
    """'2.columns.1.0.label' → 'Block 3 · Column 2 · Block 1 · Label'."""
    name = f"Block {int(parts[0]) + 1}"
    if len(parts) > 3 and parts[1] == "columns" and parts[2].isdigit() and parts[3].isdigit():
        return f"{name} · Column {int(parts[2]) + 1} · " + _block_field(parts[3:])
    field = ".".join(parts[1:])
    return name + (f" · {_BLOCK_FIELDS.get(field, field.replace('_', ' ').capitalize())}" if field else "")


_MESSAGES = (
    ("String should have at least 1 character", "Required."),
    ("Field required", "Required."),
    ("List should have at least 1 item after validation, not 0", "Add at least one."),
    ("Extra inputs are not permitted", "Not a field of a campaign."),
    ("Input should be a valid integer", "Use a whole number."),
    ("String should match pattern '^([01]\\d|2[0-3]):[0-5]\\d$'", "Use a time of day as HH:MM (00:00 to 23:59)."),
    ("String should match pattern '^#(?:[0-9a-fA-F]{3}){1,2}$'", "Use a colour like #1a5fd0."),
)


def message(text: str) -> str:
    """A validation message in the UI's words (pydantic's own phrasing where it reads as code)."""
    for raw, words in _MESSAGES:
        if text.startswith(raw):
            return words
    if text.startswith("String should have at most "):
        return f"Keep it to {text.removeprefix('String should have at most ')} or fewer."
    return text[:1].upper() + text[1:]
