"""The field mapping: the email fallback order, and what counts as an email."""

import json

import pytest

from humanic_app.services.intake import payloads
from humanic_app.services.mapping import ID_MAX, apply_mapping, owner_keys


def _document(person_email=None, event_email=None, set_email=None) -> dict:
    properties = {"email": event_email} if event_email is not None else {}
    if set_email is not None:
        properties["$set"] = {"email": set_email}
    person = {"id": "p1", "properties": {"email": person_email} if person_email is not None else {}}
    return {"event": {"event": "x", "distinct_id": "d1", "properties": properties}, "person": person}


@pytest.mark.parametrize(
    "document,expected",
    [
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
    ],
)
def test_email_is_the_first_valid_address_in_the_fallback_order(document, expected):
    assert apply_mapping(document, None).email == expected


@pytest.mark.parametrize(
    "person_id,expected",
    [
        ("p1", "p1"),
        (42, "42"),
        ("p" * ID_MAX, "p" * ID_MAX),
        ("p" * (ID_MAX + 1), None),  # cut to fit, two ids could become one and merge two people
        ({"id": "p1"}, None),
        (None, None),
    ],
)
def test_processing_and_intake_read_the_same_person_id(person_id, expected):
    """apply_mapping (what processing links) and owner_keys (what intake stores for partition passes to
    route by) follow one rule: were they to differ, a merge could escape the look-ahead."""
    document = _document("ada@example.com")
    document["person"]["id"] = person_id
    assert apply_mapping(document, None).person_id == expected
    assert owner_keys(document, None) == ("ada@example.com", expected)


@pytest.mark.parametrize(
    "distinct_id,expected",
    [("d1", "d1"), (7, "7"), ("d" * ID_MAX, "d" * ID_MAX), ("d" * (ID_MAX + 1), None), (["d1"], None)],
)
def test_intake_and_processing_read_the_same_distinct_id(distinct_id, expected):
    """What intake stores on the event row (partition passes route by it) is what processing links."""
    document = _document("ada@example.com")
    document["event"]["distinct_id"] = distinct_id
    stored = payloads.parse_body(json.dumps(document).encode(), None)[0]
    assert stored.distinct_id == apply_mapping(document, None).user_id == expected


def test_a_custom_email_path_is_followed():
    document = {"event": {"event": "x", "properties": {"contact": {"mail": "Bo@Example.com"}}}}
    assert apply_mapping(document, {"email": ["event.properties.contact.mail"]}).email == "bo@example.com"
    assert apply_mapping(document, None).email is None


def test_event_properties_live_where_the_mapping_says():
    default_body = {"event": {"event": "checkout_started", "properties": {"cart_value": 80}}}
    custom_body = {"type": "checkout_started", "properties": {"cart_value": 80, "cart_id": "c1"}}
    assert apply_mapping(default_body, None).event_properties == {"cart_value": 80}
    assert apply_mapping(custom_body, None).event_properties == {}
    mapped = apply_mapping(custom_body, {"event_name": "type", "event_properties": ["properties"]})
    assert mapped.event_properties == {"cart_value": 80, "cart_id": "c1"}
    assert mapped.variables["cart_value"] == 80 and mapped.unmatched_paths == []


def test_an_event_properties_path_that_finds_no_object_is_reported():
    body = {"type": "x", "properties": "not an object"}
    mapped = apply_mapping(body, {"event_properties": ["props", "properties"]})
    assert mapped.event_properties == {} and mapped.unmatched_paths == ["props", "properties"]
    assert apply_mapping(
        {"type": "x", "props": {"a": 1}}, {"event_properties": ["props", "properties"]}
    ).event_properties == {"a": 1}


def test_event_properties_is_a_mapped_field_validated_and_previewed_like_the_others():
    from humanic_app.services.errors import ValidationFailed
    from humanic_app.services.mapping import FIELD_LABELS, effective_mapping, preview_value, validate_mapping

    assert "event_properties" in FIELD_LABELS
    assert effective_mapping(None)["event_properties"] == ["event.properties"]
    assert validate_mapping({"event_properties": "properties"}) == {"event_properties": ["properties"]}
    with pytest.raises(ValidationFailed) as refused:
        validate_mapping({"event_properties": "properties!"})
    assert set(refused.value.field_errors) == {"event_properties"}
    mapped = apply_mapping({"type": "x", "properties": {"cart_value": 80}}, {"event_properties": "properties"})
    assert preview_value(mapped, "event_properties") == '{"cart_value": 80}'
    assert preview_value(apply_mapping({"type": "x"}, None), "event_properties") == "—"
    assert preview_value(apply_mapping({"type": "x"}, {"event_name": "type"}), "event_name") == "x"
