"""Block emails: the document's blocks → email-client-safe HTML through MJML and the brand layout, variables
escaped in every block, the plain-text part, raw-HTML steps as they always were, the checks, YAML."""

import copy
import re

import markupsafe
import pytest

from humanic_app.models import Workspace
from humanic_app.services import composing, templates
from humanic_app.services.campaigns import library
from humanic_app.services.campaigns.preview import render_preview
from humanic_app.services.campaigns.schema import Step, document_as_dict, validate_document
from humanic_app.services.design import checks, render
from humanic_app.services.design.blocks import Html
from humanic_app.services.design.brand import Brand
from humanic_app.services.errors import ValidationFailed

UNSUBSCRIBE = "https://h.acme.io/unsubscribe/tok"
EVERY_BLOCK = [
    {"type": "heading", "text": "Hi {{ first_name | default('there') }}", "level": 1},
    {"type": "paragraph", "markdown": "Your **cart** is *waiting*. [See it](https://acme.io/cart)\n\n- one\n- two"},
    {"type": "button", "label": "Check out", "url": "https://acme.io/checkout", "colour": "#0b7a3b"},
    {"type": "image", "url": "https://acme.io/cart.png", "alt": "Your cart", "width": 300, "link": "https://acme.io"},
    {"type": "divider"},
    {"type": "spacer", "height": 32},
    {
        "type": "columns",
        "columns": [
            [{"type": "paragraph", "markdown": "Left side"}],
            [{"type": "button", "label": "Right", "url": "https://acme.io/right"}],
        ],
    },
    {"type": "html", "html": "<p class='raw'>Raw {{ plan }}</p>"},
]


def _document(blocks, **step):
    return {
        "name": "Design",
        "trigger": {"event": "user_signed_up"},
        "steps": [{"subject": "Hello {{ first_name }}", "blocks": blocks, **step}],
    }


def _ws(**fields) -> Workspace:
    return Workspace(
        name="Acme", from_email="hello@acme.io", from_name="Acme", physical_address="1 Main St, Springfield", **fields
    )


def _compose(blocks, variables=None, text=None, brand=None, ws=None):
    return composing.compose(
        subject="Hi",
        html=None,
        blocks=blocks,
        text=text,
        variables=variables or {},
        ws=ws or _ws(),
        unsubscribe_url=UNSUBSCRIBE,
        brand=brand,
    )


def _body(html: str) -> str:
    return html[html.index("<body") :]


def test_every_block_kind_compiles_to_tables_with_inline_styles_in_a_600px_body():
    email = _compose(EVERY_BLOCK, {"first_name": "Ada", "plan": "pro"})
    body = _body(email.html)
    assert "<mj-" not in email.html  # every MJML tag compiled
    assert "max-width:600px" in body and not re.search(r"max-width:\s*(6[0-9][1-9]|[7-9]\d\d)px", body)
    assert '<h1 style="margin:0;font-size:28px;' in body and "Hi Ada</h1>" in body
    assert "<strong>cart</strong>" in body and "<em>waiting</em>" in body and "<li>two</li>" in body
    assert re.search(r'<a style="color:#1a5fd0;[^"]*" href="https://acme.io/cart">See it</a>', body)
    assert re.search(r'<a href="https://acme.io/checkout"[^>]*background:#0b7a3b[^>]*>Check out</a>', body)
    assert re.search(r'<img alt="Your cart" [^>]*src="https://acme.io/cart.png" width="300"', body)
    assert "border-top:solid 1px #d0d7de" in body  # the divider
    assert "height:32px" in body  # the spacer
    assert body.count("mj-column-per-50") == 2  # two columns, stacked on a phone by MJML's media query
    assert "<p class='raw'>Raw pro</p>" in body
    assert '<meta name="color-scheme" content="light dark"' in email.html
    assert "prefers-color-scheme: dark" in email.html
    # in dark mode the page, the content, its text and links, and the footer each get a dark-mode colour
    dark = email.html[
        email.html.index("prefers-color-scheme: dark") : email.html.index(
            "</style>", email.html.index("prefers-color-scheme")
        )
    ]
    for target in ("body,", ".hm-content td", ".hm-text p", ".hm-text a", ".hm-footer div"):
        assert target in dark, target
    assert body.count('class="hm-content"') == 3 and 'class="hm-footer"' in body and body.count('class="hm-text"') == 4
    # styles sit on the elements: the content's own tags need no <style> block
    for tag in re.findall(r"<(?:h1|p|ul|td)\b[^>]*>", body):
        if "class='raw'" not in tag:
            assert "style=" in tag, tag


def test_layout_footer_has_the_address_footer_text_and_the_unsubscribe_link():
    brand = Brand(logo_url="https://acme.io/logo.png", logo_width=140, footer_text="Acme Inc.\nMade with care")
    email = _compose([{"type": "heading", "text": "Hello"}], brand=brand)
    body = _body(email.html)
    assert re.search(r'<img alt="Acme" [^>]*src="https://acme.io/logo.png" width="140"', body)
    assert body.index("logo.png") < body.index("Hello") < body.index("Made with care")
    assert "Acme Inc.<br />Made with care<br />1 Main St, Springfield<br />" in body
    assert f'<a href="{UNSUBSCRIBE}"' in body
    assert email.text.endswith(f"--\nAcme Inc.\nMade with care\n1 Main St, Springfield\nUnsubscribe: {UNSUBSCRIBE}")
    assert email.headers["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"


def test_brand_text_is_literal_never_a_template():
    email = _compose(
        [{"type": "heading", "text": "Hi"}], {"x": "EVIL"}, brand=Brand(footer_text="Price {{ x }} & more")
    )
    assert "Price {{ x }} &amp; more" in email.html and "EVIL" not in email.html


SCRIPT = "<script>alert(1)</script>"
ESCAPED_EVERYWHERE = {
    "heading": {"type": "heading", "text": "Hi {{ v }}"},
    "paragraph": {"type": "paragraph", "markdown": "Hello **{{ v }}** and [link](https://acme.io/{{ v }})"},
    "button label": {"type": "button", "label": "Go {{ v }}", "url": "https://acme.io"},
    "button url": {"type": "button", "label": "Go", "url": "https://acme.io/?q={{ v }}"},
    "image alt": {"type": "image", "url": "https://acme.io/a.png", "alt": "A {{ v }}"},
    "image url": {"type": "image", "url": "https://acme.io/{{ v }}.png", "alt": "A"},
    "image link": {"type": "image", "url": "https://acme.io/a.png", "alt": "A", "link": "https://acme.io/{{ v }}"},
    "raw html": {"type": "html", "html": "<p>{{ v }}</p>"},
    "columns": {
        "type": "columns",
        "columns": [
            [{"type": "heading", "text": "{{ v }}"}],
            [{"type": "button", "label": "{{ v }}", "url": "https://a.io"}],
        ],
    },
}


@pytest.mark.parametrize("where", list(ESCAPED_EVERYWHERE))
@pytest.mark.parametrize("value", [SCRIPT, '"><script>alert(1)</script>', "' onerror='alert(1)"])
def test_a_variable_is_escaped_in_every_block(where, value):
    email = _compose([ESCAPED_EVERYWHERE[where]], {"v": value})
    body = _body(email.html)
    assert "<script>" not in body
    assert "onerror='" not in body and 'onerror="' not in body
    assert str(markupsafe.escape(value)) in body  # there as text, in the element or attribute it was put in


def test_jinja_survives_markdown_and_mjml_syntax():
    blocks = [
        {"type": "paragraph", "markdown": '{% if plan == "pro" and seats < 10 %}*Pro* {{ first_name }}{% endif %}'},
        {"type": "heading", "text": "{# a note #}{{ cart_total * 2 }}"},
    ]
    email = _compose(blocks, {"plan": "pro", "seats": 3, "first_name": "Ada_Lovelace", "cart_total": 21})
    assert "<em>Pro</em> Ada_Lovelace" in email.html and ">42</h1>" in email.html


def test_plain_text_from_blocks_keeps_links_as_text_and_can_be_overridden():
    email = _compose(EVERY_BLOCK, {"first_name": "Ada", "plan": "pro"})
    assert email.text.split("\n\n--\n")[0] == (
        "Hi Ada\n\n"
        "Your cart is waiting. See it (https://acme.io/cart)\n- one\n- two\n\n"
        "Check out (https://acme.io/checkout)\n\n"
        "Your cart (https://acme.io)\n\n"
        "----\n\n"
        "Left side\n\n"
        "Right (https://acme.io/right)\n\n"
        "Raw pro"
    )
    own = _compose(EVERY_BLOCK, {"first_name": "Ada"}, text="Just {{ first_name }} <b>")
    assert own.text.startswith("Just Ada <b>\n\n--\n") and own.text.endswith(f"Unsubscribe: {UNSUBSCRIBE}")


def test_raw_html_steps_render_exactly_as_before_and_read_as_one_raw_html_block():
    step = {"subject": "Hi {{ name }}", "html": "<p>Hi {{ name }}</p>", "text": None}
    doc = validate_document(_document(None) | {"steps": [step]})
    node = doc.steps[0]
    assert isinstance(node, Step) and node.block_data() is None
    assert node.as_blocks() == [Html(type="html", html="<p>Hi {{ name }}</p>")]
    ws = _ws(brand=Brand(logo_url="https://acme.io/logo.png").model_dump())
    email = composing.compose(
        subject=node.subject, html=node.html, text=None, variables={"name": SCRIPT}, ws=ws, unsubscribe_url=UNSUBSCRIBE
    )
    before = templates.as_sent(
        templates.render(
            subject="Hi {{ name }}",
            html="<p>Hi {{ name }}</p>",
            text=None,
            variables={"name": SCRIPT, "unsubscribe_url": UNSUBSCRIBE},
        ),
        address="1 Main St, Springfield",
        unsubscribe_url=UNSUBSCRIBE,
    )
    assert (email.html, email.text, email.subject) == (before.html, before.text, before.subject)
    assert "logo.png" not in email.html


def test_a_step_is_compiled_once_per_content_and_brand_then_only_personalised(monkeypatch):
    calls = []
    real = render.mjml.mjml2html
    monkeypatch.setattr(render.mjml, "mjml2html", lambda *a, **k: calls.append(1) or real(*a, **k))
    blocks = copy.deepcopy(EVERY_BLOCK)
    blocks[0]["text"] = "Hi {{ first_name }} (cache test)"
    for name in ("Ada", "Grace", "Linus"):
        assert f"Hi {name} (cache test)" in _compose(copy.deepcopy(blocks), {"first_name": name}).html
    assert len(calls) == 1
    _compose(blocks, {"first_name": "Ada"}, brand=Brand(primary_colour="#aa0000"))
    assert len(calls) == 2  # a brand change is a new layout: compiled again


@pytest.mark.parametrize(
    ("block", "field", "words"),
    [
        ({"type": "button", "label": "Go", "url": "/pricing"}, "steps.0.blocks.0.url", "absolute"),
        ({"type": "button", "label": "Go", "url": "{{ link }}"}, "steps.0.blocks.0.url", "absolute"),
        ({"type": "paragraph", "markdown": "See [pricing](/pricing)"}, "steps.0.blocks.0.markdown", "'/pricing'"),
        ({"type": "image", "url": "https://a.io/x.png"}, "steps.0.blocks.0.alt", "Field required"),
        (
            {"type": "image", "url": "https://a.io/x.png", "alt": "x", "link": "www.a.io"},
            "steps.0.blocks.0.link",
            "absolute",
        ),
        ({"type": "image", "url": "https://a.io/x.png", "alt": "x", "width": 900}, "steps.0.blocks.0.width", "600"),
        (
            {"type": "button", "label": "Go", "url": "https://a.io", "colour": "red"},
            "steps.0.blocks.0.colour",
            "pattern",
        ),
        ({"type": "carousel"}, "steps.0.blocks.0", "a block's type is heading"),
        ({"type": "heading", "text": "Hi {{ name "}, "steps.0.blocks.0.text", "line 1"),
        (
            {"type": "heading", "text": "Hi {{ name | shout }}"},
            "steps.0.blocks.0.text",
            "Unknown filter 'shout' in step 1 block 1 text",
        ),
        (
            {"type": "columns", "columns": [[{"type": "columns", "columns": [[], []]}], []]},
            "steps.0.blocks.0.columns.0.0",
            "a block's type",
        ),
        (
            {"type": "columns", "columns": [[], [{"type": "button", "label": "x", "url": "ftp://a"}]]},
            "steps.0.blocks.0.columns.1.0.url",
            "absolute",
        ),
    ],
)
def test_block_refusals_name_their_field(block, field, words):
    with pytest.raises(ValidationFailed) as refused:
        validate_document(_document([block]))
    assert field in refused.value.field_errors, refused.value.field_errors
    assert words in refused.value.field_errors[field]


def test_an_email_has_blocks_or_html():
    with pytest.raises(ValidationFailed) as neither:
        validate_document(_document(None) | {"steps": [{"subject": "x"}]})
    assert neither.value.field_errors == {"steps.0": "an email needs 'blocks' or 'html'"}
    with pytest.raises(ValidationFailed) as both:
        validate_document(_document([{"type": "divider"}], html="<p>x</p>"))
    assert both.value.field_errors == {"steps.0": "an email has 'blocks' or 'html', not both"}


def test_blocks_round_trip_through_yaml_unchanged():
    document = document_as_dict(validate_document(_document(EVERY_BLOCK, text="Plain {{ first_name }}")))
    again = document_as_dict(validate_document(library.load_text(library.dump(document))))
    assert again == document
    assert again["steps"][0]["blocks"][6]["columns"][1][0]["url"] == "https://acme.io/right"
    assert "html" not in again["steps"][0]


def test_checks_warn_past_gmail_clipping_and_name_images_without_alt_and_relative_links():
    fine = render_preview(ws=_ws(), document=_document(EVERY_BLOCK), step=0, variables={"first_name": "Ada"})
    assert fine["error"] == "" and all(check["ok"] for check in fine["checks"]), fine["checks"]
    raw = "<img src='https://a.io/x.png'><a href='/pricing'>Pricing</a>" + "<p>" + "x" * 110_000 + "</p>"
    bad = render_preview(ws=_ws(), document=_document([{"type": "html", "html": raw}]), step=0, variables={})
    found = {check["check"]: check for check in bad["checks"]}
    assert not found["size"]["ok"] and "Gmail clips" in found["size"]["message"]
    assert not found["alt"]["ok"] and "https://a.io/x.png" in found["alt"]["message"]
    assert not found["links"]["ok"] and "/pricing" in found["links"]["message"]
    assert found["width"]["ok"]
    assert checks.run("<img src='https://a.io/x.png' alt='x' width='900'>")[3]["ok"] is False


def test_render_preview_takes_a_brand_being_edited():
    preview = render_preview(
        ws=_ws(), document=_document(EVERY_BLOCK), step=0, variables={}, brand=Brand(primary_colour="#aa0000")
    )
    assert "background:#0b7a3b" in preview["html"]  # a button with its own colour keeps it
    assert "background:#aa0000" in preview["html"]  # one without takes the brand's
    assert 'style="color:#aa0000;' in preview["html"]  # and so do the paragraph's links
    assert "Hi there</h1>" in preview["html"] and preview["missing"] == ["first_name", "plan"]


def test_a_brand_with_low_contrast_is_flagged_by_the_preview():
    pale = Brand(text_colour="#9a9a9a", primary_colour="#ffcc00")
    found = render_preview(ws=_ws(), document=_document(EVERY_BLOCK), step=0, variables={}, brand=pale)["checks"]
    (check,) = [c for c in found if c["check"] == "contrast"]
    assert not check["ok"] and "text #9a9a9a on #ffffff is 2.8:1" in check["message"] and "#ffcc00" in check["message"]
    html_only = _document(None) | {"steps": [{"subject": "x", "html": "<p>x</p>"}]}
    assert "contrast" not in [
        c["check"] for c in render_preview(ws=_ws(), document=html_only, step=0, variables={})["checks"]
    ]


def test_an_email_with_no_text_of_its_own_has_only_the_footer_as_text():
    email = _compose([{"type": "spacer"}, {"type": "image", "url": "https://acme.io/a.png", "alt": "A"}])
    assert email.text.strip() == f"--\n1 Main St, Springfield\nUnsubscribe: {UNSUBSCRIBE}"


def test_a_preview_in_a_colour_scheme_applies_the_emails_dark_rules_always_or_never():
    html = _compose([{"type": "paragraph", "markdown": "Hi"}]).html
    dark, light = render.in_scheme(html, dark=True), render.in_scheme(html, dark=False)
    assert "prefers-color-scheme" in html  # as sent: the mail client decides
    assert "prefers-color-scheme" not in dark + light
    assert "@media all {" in dark and "@media not all {" in light
    # the rules themselves are untouched: the preview shows the sent email's own dark colours
    assert dark.replace("@media all {", "") == light.replace("@media not all {", "")
