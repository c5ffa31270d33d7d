"""Settings → Topics: the workspace's topics (what a campaign's marketing email is about), and the topic
choices a contact made, shown in the Contacts dialog."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from humanic_app.models import TRANSACTIONAL
from humanic_app.services import contacts, topics, wording
from humanic_app.services.errors import ServiceError
from humanic_app.state.auth import AuthState, field_messages, signed_in

NO_TOPIC = "none"  # the builder's value for a document without `topic` (a select item cannot be empty)


def topic_choices(*, session: Session, current: str) -> list[list[str]]:
    """[value, label] for the builder's Topic select; a deleted topic the campaign still names stays listed."""
    choices = [[NO_TOPIC, "No topic (marketing)"], [TRANSACTIONAL, "Transactional (account and billing)"]]
    choices += [[t.key, t.name] for t in topics.list_topics(session=session)]
    if current not in {value for value, _ in choices}:
        choices.append([current, f"{current} (no such topic)"])
    return choices


class TopicsState(AuthState):
    topics_loaded: bool = False
    topic_rows: list[dict[str, str]] = []  # id, key, name, opted_out (how many contacts, as words)
    topic_errors: dict[str, str] = {}
    rename_errors: dict[str, str] = {}  # topic id → what is wrong with the new name typed in its row
    topic_saved: str = ""
    contact_topics: list[dict[str, str]] = []  # name, subscribed ("yes"/"no") for the open contact

    def _refresh_topics(self) -> None:
        with self._read_call() as session:
            rows = topics.list_topics(session=session)
            opted_out = topics.opt_out_counts(session=session)
        self.topic_rows = [
            {
                "id": str(t.id),
                "key": t.key,
                "name": t.name,
                "opted_out": wording.plural(opted_out.get(t.id or 0, 0), "contact") + " opted out",
            }
            for t in rows
        ]
        self.topics_loaded = True

    @rx.event
    @signed_in
    def load_topics(self):
        self.topic_errors, self.topic_saved = {}, ""
        self._refresh_topics()

    @rx.event
    @signed_in
    def add_topic(self, form: dict):
        self.topic_saved = ""
        with self._service_call("topic_errors", then=self._refresh_topics, words=field_messages) as session:
            topic = topics.create_topic(session=session, name=str(form.get("name") or ""))
            self.topic_saved = f"Topic {topic.name} added: campaigns name it as {topic.key}."

    @rx.event
    @signed_in
    def rename_topic(self, form: dict):
        topic_id = str(form.get("topic_id") or "")
        self.topic_saved = ""

        def at_its_row(exc: ServiceError) -> dict[str, str]:  # the row's own field, not New topic's
            return {topic_id: " ".join(field_messages(exc).values())}

        with self._service_call("rename_errors", then=self._refresh_topics, words=at_its_row) as session:
            topic = topics.rename_topic(session=session, topic_id=int(topic_id), name=str(form.get("name") or ""))
            self.topic_saved = f"Topic renamed to {topic.name}: campaigns still name it as {topic.key}."

    @rx.event
    @signed_in
    def delete_topic(self, topic_id: str):
        self.topic_saved = ""
        with self._service_call("topic_errors", then=self._refresh_topics, words=field_messages) as session:
            topics.delete_topic(session=session, topic_id=int(topic_id))
            self.topic_saved = "Topic deleted."

    @rx.event
    @signed_in
    def load_contact_topics(self, contact_id: int):
        with self._read_call() as session:
            prefs = topics.preferences(
                session=session, contact=contacts.get_contact(session=session, contact_id=contact_id)
            )
        self.contact_topics = [
            {"name": t["name"], "subscribed": "Subscribed" if t["subscribed"] else "Opted out"} for t in prefs["topics"]
        ]
