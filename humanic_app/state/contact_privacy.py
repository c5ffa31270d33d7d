"""A contact's privacy actions on the Contacts page: export everything held about it, or erase it."""

from __future__ import annotations

import json

import reflex as rx

from humanic_app.services import erasure
from humanic_app.services.wording import plural
from humanic_app.state.auth import signed_in
from humanic_app.state.contacts import ContactsState


def erasure_words(done: erasure.Erasure) -> str:
    deleted = ", ".join(
        plural(count, noun, *more)
        for count, noun, *more in (
            (done.events, "event"),
            (done.enrolments, "enrolment"),
            (done.identities, "identity", "identities"),
        )
    )
    anonymized = f" {plural(done.messages, 'email')} anonymized." if done.messages else ""
    kept = " Its address stays suppressed, kept only as a salted hash." if done.address_suppressed else ""
    return f"Contact #{done.contact_id} erased: {deleted} deleted.{anonymized}{kept}"


class ContactPrivacyState(ContactsState):
    erased_message: str = ""
    privacy_error: str = ""

    @rx.event
    @signed_in
    def load_page(self):
        """The Contacts page's on_load: an erasure's notice belongs to the visit it was made in."""
        self.erased_message, self.privacy_error = "", ""
        return ContactsState.load

    @rx.event
    @signed_in
    def export_contact(self, contact_id: str):
        with self._service_call("privacy_error") as session:
            data = erasure.export_contact(session=session, contact_id=int(contact_id))
            return rx.download(
                data=json.dumps(data, indent=2, ensure_ascii=False),
                filename=erasure.export_file_name(int(contact_id)),
                mime_type="application/json",
            )
        return None

    @rx.event
    @signed_in
    def erase_contact(self, contact_id: str):
        principal = self._principal()
        actor = erasure.actor(user_id=principal.user_id if principal else None, api_key_id=None)
        self.erased_message = ""
        with self._service_call("privacy_error") as session:
            done = erasure.erase_contact(session=session, contact_id=int(contact_id), actor=actor)
        if self.privacy_error:
            return
        self.erased_message = erasure_words(done)
        self.selected, self.timeline, self.selected_ids = {}, [], []
        self.written_back = []
        self._search()
        self._load_suppressions()
