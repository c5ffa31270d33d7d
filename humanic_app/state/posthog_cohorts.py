"""Settings → PostHog cohorts: PostHog's cohorts to import, and the imported ones with their last sync and
whether they are kept in sync. They are read with the API access set in its own section
(state/posthog_access.py); every refusal shows whole under the list."""

from __future__ import annotations

import reflex as rx

from humanic_app.services import posthog_cohorts as cohorts, wording
from humanic_app.state.auth import AuthState, signed_in
from humanic_app.state.posthog_access import refused_here


def _budget():
    """The deployment's one PostHog budget, as the API and the worker's jobs take it."""
    from humanic_app.workers import posthog_limiter

    return posthog_limiter()


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


class CohortsState(AuthState):
    cohorts_loaded: bool = False
    cohort_rows: list[dict[str, str]] = []  # the imported cohorts, as the list shows them
    posthog_cohort_rows: list[dict[str, str]] = []  # PostHog's cohorts, once asked for
    cohort_errors: dict[str, str] = {}  # every refusal under "": the panel has no field of its own
    cohort_done: str = ""

    def _refresh_cohorts(self) -> None:
        with self._read_call() as session:
            rows = [cohorts.cohort_as_dict(c) for c in cohorts.imported(session=session)]
        self.cohort_rows = [
            {
                "posthog_id": str(c["posthog_id"]),
                "name": c["name"],
                "members": wording.plural(c["members"], "contact"),
                "synced": f"Last synced {_when(c['last_synced_at'])}: {c['last_result']}",
                "error": c["last_error"],
                "keep": "yes" if c["keep_in_sync"] else "",
                "next": f"Next sync {_when(c['next_sync_at'])}." if c["next_sync_at"] else "Imported once.",
            }
            for c in rows
        ]
        self.cohorts_loaded = True

    @rx.event
    @signed_in
    def load_cohorts(self):
        self.cohort_errors, self.cohort_done = {}, ""
        self._refresh_cohorts()

    @rx.event
    @signed_in
    def show_posthog_cohorts(self):
        self.cohort_done = ""
        with self._service_call("cohort_errors", words=refused_here) as session:
            listed = cohorts.posthog_cohorts(session=session, limiter=_budget())
            self.posthog_cohort_rows = [
                {
                    "posthog_id": str(c["posthog_id"]),
                    "name": c["name"],
                    "count": wording.plural(c["count"], "person") if c["count"] is not None else "size unknown",
                    "imported": "yes" if c["imported_id"] is not None else "",
                }
                for c in listed
            ]
            if not listed:
                self.cohort_done = "This PostHog project has no cohorts yet."

    def _sync(self, posthog_id: str, keep_in_sync: bool | None) -> None:
        self.cohort_done = ""
        with self._service_call("cohort_errors", then=self._refresh_cohorts, words=refused_here) as session:
            found = cohorts.sync(
                session=session, posthog_id=int(posthog_id), keep_in_sync=keep_in_sync, limiter=_budget()
            )
            self.cohort_done = f"{found.name}: {found.last_result}"
        self.posthog_cohort_rows = [
            {**row, "imported": "yes" if row["posthog_id"] == posthog_id else row["imported"]}
            for row in self.posthog_cohort_rows
        ]

    @rx.event
    @signed_in
    def import_cohort(self, posthog_id: str):
        self._sync(posthog_id, False)

    @rx.event
    @signed_in
    def import_and_keep_cohort(self, posthog_id: str):
        self._sync(posthog_id, True)

    @rx.event
    @signed_in
    def sync_cohort_now(self, posthog_id: str):
        self._sync(posthog_id, None)

    @rx.event
    @signed_in
    def set_cohort_kept(self, posthog_id: str, keep: bool):
        self.cohort_done = ""
        with self._service_call("cohort_errors", then=self._refresh_cohorts, words=refused_here) as session:
            found = cohorts.set_schedule(session=session, posthog_id=int(posthog_id), keep_in_sync=bool(keep))
            self.cohort_done = f"{found.name} is " + ("kept in sync every hour." if keep else "no longer synced.")

    @rx.event
    @signed_in
    def remove_cohort(self, posthog_id: str):
        self.cohort_done = ""
        with self._service_call("cohort_errors", then=self._refresh_cohorts, words=refused_here) as session:
            cohorts.remove(session=session, posthog_id=int(posthog_id))
            self.cohort_done = "Cohort removed: its contacts stay."
        self.posthog_cohort_rows = [
            {**row, "imported": "" if row["posthog_id"] == posthog_id else row["imported"]}
            for row in self.posthog_cohort_rows
        ]
