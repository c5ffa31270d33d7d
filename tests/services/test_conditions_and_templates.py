import pytest

from humanic_app.services import templates
from humanic_app.services.campaigns.conditions import failing_condition
from humanic_app.services.campaigns.schema import Condition, parse_duration

EVENT = {
    "cart_value": 129.5,
    "currency": "EUR",
    "items": ["mug", "shirt"],
    "plan": "free",
    "count": "3",
    "$set": {"company": "Acme"},
}
PERSON = {"plan": "pro", "email": "ada@example.com"}


@pytest.mark.parametrize(
    "clause,holds",
    [
        ({"property": "cart_value", "op": "gt", "value": 50}, True),
        ({"property": "cart_value", "op": "gt", "value": 200}, False),
        ({"property": "cart_value", "op": "gte", "value": 129.5}, True),
        ({"property": "cart_value", "op": "lt", "value": 129.5}, False),
        ({"property": "cart_value", "op": "lte", "value": "129.5"}, True),
        ({"property": "count", "op": "eq", "value": 3}, True),
        ({"property": "currency", "op": "eq", "value": "EUR"}, True),
        ({"property": "currency", "op": "ne", "value": "EUR"}, False),
        ({"property": "missing", "op": "ne", "value": "x"}, True),
        ({"property": "missing", "op": "eq", "value": "x"}, False),
        ({"property": "items", "op": "contains", "value": "mug"}, True),
        ({"property": "currency", "op": "contains", "value": "eu"}, True),
        ({"property": "items", "op": "not_contains", "value": "hat"}, True),
        ({"property": "currency", "op": "is_set"}, True),
        ({"property": "missing", "op": "is_set"}, False),
        ({"property": "missing", "op": "is_not_set"}, True),
        ({"property": "currency", "op": "in", "value": ["USD", "EUR"]}, True),
        ({"property": "currency", "op": "in", "value": ["USD"]}, False),
        ({"property": "$set.company", "op": "eq", "value": "Acme"}, True),
        ({"person_property": "plan", "op": "eq", "value": "pro"}, True),
        ({"person_property": "plan", "op": "eq", "value": "free"}, False),
        ({"property": "currency", "op": "gt", "value": 5}, False),
    ],
)
def test_operators(clause, holds):
    result = failing_condition([Condition(**clause)], EVENT, PERSON)
    assert (result is None) is holds


def test_failing_clause_is_described_with_the_value_seen():
    clauses = [
        Condition(property="currency", op="eq", value="EUR"),
        Condition(person_property="plan", op="eq", value="free"),
    ]
    assert failing_condition(clauses, EVENT, PERSON) == "person property plan eq 'free' (was 'pro')"


def test_condition_needs_one_target():
    with pytest.raises(ValueError):
        Condition(op="eq", value=1)
    with pytest.raises(ValueError):
        Condition(property="a", person_property="b", op="eq", value=1)


@pytest.mark.parametrize(
    "text,seconds", [("0", 0), (0, 0), ("30m", 1800), ("24h", 86400), ("2d", 172800), ("1w", 604800), ("45", 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


def test_html_is_escaped_subject_and_text_are_not():
    rendered = templates.render(
        subject="Hi {{ name }}",
        html="<p>{{ name }}</p>",
        text="Hi {{ name }}",
        variables={"name": "<script>alert(1)</script> & Co"},
    )
    assert rendered.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</p>"
    assert rendered.subject == "Hi <script>alert(1)</script> & Co" == rendered.text


def test_missing_variables_render_empty_and_are_listed():
    rendered = templates.render(
        subject="{{ greeting }} {{ name | default('there') }}",
        html="<p>{{ cart_value }} {{ currency }}</p>",
        text=None,
        variables={"currency": "EUR"},
    )
    assert rendered.subject == "there" and rendered.html == "<p> EUR</p>"
    assert rendered.missing == ["cart_value", "greeting"]
    assert rendered.text == "EUR"


def test_sandbox_blocks_attribute_escapes():
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        templates.render(subject="{{ ''.__class__.__mro__[1].__subclasses__() }}", html="x", text=None, variables={})


def test_text_is_derived_from_html_with_links():
    html = "<h1>Hello</h1><p>Your cart is waiting: <a href='https://x.io/c'>finish checkout</a></p>"
    assert templates.html_to_text(html) == "Hello\nYour cart is waiting: finish checkout (https://x.io/c)"


def test_syntax_errors_carry_line_numbers():
    assert templates.syntax_errors(html="<p>\n{% if x %}\n{{ y </p>", subject="ok") == {
        "html": "line 3: unexpected '/'"
    }
