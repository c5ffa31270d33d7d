"""The web process's parts, put together: the webhook's intake writer and the API wake the background
worker through its pipe (background.py), and while that worker runs it, not the writer, moves SQLite's
inbox into the event table. Nothing below this module knows who wakes whom."""

from __future__ import annotations

import functools

from humanic_app import background, workers
from humanic_app.api import build_api, webhooks
from humanic_app.services.intake.writer import IntakeWriter


def intake_writer() -> IntakeWriter:
    return IntakeWriter(wake_processing=background.wake_processing, inbox_moved_elsewhere=background.is_supervising)


def api_transformers() -> list:
    """For `rx.App(api_transformer=...)`: the API, then the webhook's direct route, one writer for both."""
    intake = intake_writer()
    return [
        build_api(intake=intake, wake_dispatcher=background.wake_dispatcher, posthog_limiter=workers.posthog_limiter()),
        functools.partial(webhooks.direct_route, intake=intake),
    ]
