"""The field mapping: the email fallback order, and what counts as an email."""

import pytest

from humanic_app.services.mapping import apply_mapping


def _document(person_email=None, event_email=None, set_email=None) -> dict:
    properties = {"email": event_email} if event_email is not None else {}
    if set_email is not None:
        properties["$set"] = {"email": set_email}
    person = {"id": "p1", "properties": {"email": person_email} if person_email is not None else {}}
    return {"event": {"event": "x", "distinct_id": "d1", "properties": properties}, "person": person}


@pytest.mark.parametrize("document,expected", [
    (_document("Person@Example.com", "event@example.com", "set@example.com"), "person@example.com"),
    (_document(None, "event@example.com", "set@example.com"), "event@example.com"),
    (_document(None, None, "set@example.com"), "set@example.com"),  # a first $identify: person props lag
    (_document("", "event@example.com"), "event@example.com"),
    (_document("n/a", None, "set@example.com"), "set@example.com"),  # a placeholder is not an email
    (_document("ada@localhost", "  Ada@Example.org "), "ada@example.org"),
    (_document("two@@example.com"), None),
    (_document("has space@example.com"), None),
    (_document(42), None),
    (_document(None), None),
])
def test_email_is_the_first_valid_address_in_the_fallback_order(document, expected):
    assert apply_mapping(document, None).email == expected


def test_a_custom_email_path_is_followed():
    document = {"event": {"event": "x", "properties": {"contact": {"mail": "Bo@Example.com"}}}}
    assert apply_mapping(document, {"email": ["event.properties.contact.mail"]}).email == "bo@example.com"
    assert apply_mapping(document, None).email is None
