"""Small presentational helpers shared by pages."""

import reflex as rx
from reflex.event import EventSpec
from reflex.vars.function import ArgsFunctionOperation, FunctionStringVar

# The Clipboard API exists only in secure contexts (https, localhost); a self-hosted Humanic is often
# reached over plain http on a private address, where the older selection copy still works.
_COPY_FUNCTION = """(text) => {
  const viaSelection = () => {
    const area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } finally { area.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).catch(viaSelection); }
  else { viaSelection(); }
}"""


def copy_text(text: rx.Var) -> EventSpec:
    """Copies `text` to the clipboard, in secure contexts and plain http alike. The function is compiled into
    the page (a function value, not code in a string), so the content security policy needs no 'unsafe-eval'."""
    copy = FunctionStringVar.create(_COPY_FUNCTION).call(text)
    return rx.call_function(ArgsFunctionOperation.create((), copy))


def focus_element(element_id: rx.Var) -> EventSpec:
    """Moves focus to the element with this id, if it is on the page: where a dialog opened from state (no
    Radix trigger to return to) hands focus back when it closes."""
    focus = FunctionStringVar.create("(id) => document.getElementById(id)?.focus()").call(element_id)
    return rx.call_function(ArgsFunctionOperation.create((), focus))


def step(number: int, title: str, *content: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(f"Step {number}", variant="soft", size="2"),
                rx.heading(title, size="4", as_="h2"),
                align="center",
                spacing="3",
            ),
            *content,
            spacing="3",
            width="100%",
        ),
        width="100%",
        **props,
    )


def notice(message, color: str, icon: str, **props) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon=icon, color_scheme=color, width="100%", **props))


def code_block(text, *, label: str, **props) -> rx.Component:
    """Preformatted text in a frame that scrolls past 360 px: a named region in the tab order, so a keyboard
    reaches it and scrolls it with the arrow keys, and a screen reader says what it holds."""
    return rx.box(
        rx.el.pre(
            text, style={"white_space": "pre-wrap", "word_break": "break-all", "margin": "0", "font_size": "12px"}
        ),
        background=rx.color("gray", 3),
        padding="10px",
        border_radius="6px",
        width="100%",
        max_height="360px",
        overflow="auto",
        tab_index=0,
        role="region",
        aria_label=label,
        **props,
    )


def settings_section(
    title: str, description: str, *content: rx.Component, section_id: str, on_mount=None
) -> rx.Component:
    """One part of Settings: a card named by its h2 (under the page's h1) with a line saying what it is for,
    announced as a region of that name. `on_mount` loads a section that keeps its own state."""
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.vstack(
                    rx.heading(title, size="4", as_="h2", id=section_id + "-title"),
                    *([rx.text(description, size="2", color=rx.color("gray", 11))] if description else []),
                    spacing="1",
                    width="100%",
                ),
                *content,
                spacing="4",
                width="100%",
            ),
            size=rx.breakpoints(initial="2", sm="3"),
            width="100%",
        ),
        id=section_id,
        aria_labelledby=section_id + "-title",
        style={"width": "100%"},
        **({"on_mount": on_mount} if on_mount is not None else {}),
    )
