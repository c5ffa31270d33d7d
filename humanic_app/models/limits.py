"""How long each text a person types may be: one place per field, used by the services' validation, the API's
request models and the UI inputs' max_length.

Sized for use, not for the columns: a subject line longer than 255 characters is cut by mail clients anyway,
and a name past 120 characters no longer fits any list. Values stored before a limit existed stay readable and
keep being sent; saving them again asks to shorten them (the services refuse them with the limit)."""

NAME = 120  # campaign, source, workspace, From name, API key names
EVENT_NAME = 200  # trigger, unless and exit events (PostHog's own event names fit)
SUBJECT = 255
HTML = 512 * 1024  # an email body
TEXT = 512 * 1024  # its plain-text part
EMAIL = 320  # RFC 5321's longest address
URL = 2048
ADDRESS = 500  # the physical mailing address in the footer
PASSWORD = 1024  # hashing a longer one would only cost the server time
DURATION = 20  # "30m", "24h"
CONDITION_TEXT = 1000  # a condition's property name or value as typed
YAML = 2 * 1024 * 1024  # a pasted or uploaded campaign document
MAPPING_TEXT = 10_000  # the mapping editor's paths and named variables


def too_long(limit: int) -> str:
    """The refusal for a value over `limit`, in the UI's words."""
    return f"Keep it to {limit:,} characters or fewer."
