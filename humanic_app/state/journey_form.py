"""A journey's `steps` as the builder edits them, and back: the one place where the document ⇄ form mapping
lives. The form holds text as typed (every field a string, "" for unset); `node_dict` builds exactly the
dict the API takes, and validation stays in services/campaigns/schema.py.

The form keeps the document's order: node N of the builder is `steps[N-1]`, so "Step 3" means the same
node in the builder, in validation messages, in the trace and in the dry run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from humanic_app.services.campaigns.schema import CampaignDocument, Node, node_label
from humanic_app.services.design import blocks as design_blocks

BELOW = ""  # a way out left unset: the step below (the end of the journey after the last step)
KIND_WORDS = {"email": "Email", "wait": "Wait", "wait_for": "Wait for event", "branch": "Branch", "exit": "Exit"}
_EMAIL_KEYS = {"delay", "subject", "html", "text"}


@dataclasses.dataclass(frozen=True)
class ConditionRow:
    """One condition as the builder edits it: `target` is "property" or "person_property", `value` as typed."""

    target: str = "property"
    key: str = ""
    op: str = "eq"
    value: str = ""


@dataclasses.dataclass(frozen=True)
class PathCondition:
    """A branch condition: `kind` is property, person_property, engagement (`email` was `was`), did, or cohort
    (in the imported PostHog cohort `cohort`, a name or PostHog id)."""

    kind: str = "property"
    key: str = ""
    op: str = "eq"
    value: str = ""
    email: str = ""
    was: str = "opened"
    did: str = ""
    did_where: str = ""  # the did-event's property filters as JSON: kept as written (the builder does not edit them)
    cohort: str = ""


@dataclasses.dataclass(frozen=True)
class PathRow:
    """A way out of a wait_for or branch: `key` says which ("on_event", "on_timeout", "else", "0", "1"…)."""

    key: str
    title: str
    then: str = BELOW
    name: str = ""
    conditions: list[PathCondition] = dataclasses.field(default_factory=list)
    took: str = ""  # live: how many contacts went this way


# The fields the builder edits per block kind; a block's other fields (align, a two-column block's columns)
# are kept as the document has them (`BlockRow.kept`), so saving never drops what the form does not show.
BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "heading": ("text", "level"),
    "paragraph": ("markdown",),
    "button": ("label", "url", "colour"),
    "image": ("url", "alt", "width", "link"),
    "divider": (),
    "spacer": ("height",),
    "columns": (),
    "partial": ("name",),
    "html": ("html",),
}
_OPTIONAL = {"level", "colour", "width", "link", "height"}  # left out when empty: the schema's default applies
_NUMBERS = {"level", "width", "height"}
COLUMN_KINDS = design_blocks.COLUMN_KINDS  # the kinds a column of a two-column block takes
BLOCK_WORDS = {
    "heading": "Heading",
    "paragraph": "Paragraph",
    "button": "Button",
    "image": "Image",
    "divider": "Divider",
    "spacer": "Spacer",
    "columns": "Two columns",
    "partial": "Shared block",
    "html": "Raw HTML",
}


@dataclasses.dataclass(frozen=True)
class BlockRow:
    """One block of an email as the builder edits it: every field a string as typed."""

    kind: str = "paragraph"
    text: str = ""
    level: str = "1"
    markdown: str = ""
    label: str = ""
    url: str = ""
    colour: str = ""
    alt: str = ""
    width: str = ""
    link: str = ""
    height: str = ""
    html: str = ""
    name: str = ""  # a shared block's
    kept: str = ""  # the block's fields this form does not edit, as JSON
    columns: list[list[BlockRow]] = dataclasses.field(default_factory=list)  # a two-column block's, in place


def block_row(block: dict[str, Any]) -> BlockRow:
    kind = str(block.get("type", ""))
    edited = BLOCK_FIELDS.get(kind, ())
    kept = {k: v for k, v in block.items() if k != "type" and k not in edited and (k, kind) != ("columns", "columns")}
    values = {field: _text(block.get(field)) for field in edited if block.get(field) is not None}
    held = block.get("columns") if kind == "columns" else None
    columns = [
        [block_row(b) for b in column if isinstance(b, dict)]
        for column in (held if isinstance(held, list) else [])
        if isinstance(column, list)
    ]
    return BlockRow(kind=kind, kept=json.dumps(kept) if kept else "", columns=columns, **values)


def _block_value(field: str, value: str) -> Any:
    return int(value.strip()) if field in _NUMBERS and value.strip().isdigit() else value


def block_dict(row: BlockRow) -> dict[str, Any]:
    """The block the document holds: a required field left empty stays in, for the schema to name."""
    out: dict[str, Any] = {"type": row.kind, **(json.loads(row.kept) if row.kept else {})}
    for field in BLOCK_FIELDS.get(row.kind, ()):
        value = getattr(row, field)
        if value.strip() or field not in _OPTIONAL:
            out[field] = _block_value(field, value)
    if row.kind == "columns":
        out["columns"] = [[block_dict(b) for b in column] for column in row.columns]
    return out


def new_block(kind: str) -> BlockRow:
    """A block as "Add block" makes it; a two-column block starts with a paragraph in each column."""
    if kind == "columns":
        return BlockRow(
            kind=kind,
            columns=[[BlockRow(kind="paragraph", markdown="Left")], [BlockRow(kind="paragraph", markdown="Right")]],
        )
    return BlockRow(kind=kind, level="2" if kind == "heading" else "1", height="24" if kind == "spacer" else "")


def edit_blocks(
    blocks: list[BlockRow], at: str, change: Callable[[list[BlockRow], int], list[BlockRow]]
) -> list[BlockRow]:
    """The blocks with `change` applied to the list holding the block at `at`, given its position there.
    `at` is the block's place as the document's error locations name it: "3" (block 3), or "3.columns.0.1"
    (block 1 of the first column of block 3). A place that is not there leaves the blocks as they were."""
    parts = at.split(".")
    if (
        not all(p.isdigit() for p in parts[::2])
        or len(parts) not in (1, 4)
        or (len(parts) == 4 and parts[1] != "columns")
    ):
        return blocks
    j = int(parts[0])
    if len(parts) == 1:
        return change(list(blocks), j) if 0 <= j < len(blocks) else blocks
    column, k = int(parts[2]), int(parts[3])
    if not 0 <= j < len(blocks) or not 0 <= column < len(blocks[j].columns):
        return blocks
    inner = list(blocks[j].columns[column])
    if not 0 <= k <= len(inner):  # k == len: the end of the column, where a block is added
        return blocks
    columns = [change(inner, k) if c == column else list(col) for c, col in enumerate(blocks[j].columns)]
    return [dataclasses.replace(b, columns=columns) if n == j else b for n, b in enumerate(blocks)]


def block_at(blocks: list[BlockRow], at: str) -> BlockRow | None:
    found: list[BlockRow] = []

    def look(held: list[BlockRow], k: int) -> list[BlockRow]:
        found.extend(held[k : k + 1])
        return held

    edit_blocks(blocks, at, look)
    return found[0] if found else None


def starting_blocks() -> list[BlockRow]:
    """A new email's starting point: a greeting, a line to rewrite and a button."""
    return [
        BlockRow(kind="heading", text="Hi {{ name | default('there') }}"),
        BlockRow(
            kind="paragraph", markdown="Write your message here: **bold**, *italic*, [links](https://example.com)."
        ),
        BlockRow(kind="button", label="Get started", url="https://example.com"),
    ]


def with_mode(row: NodeRow, mode: str) -> NodeRow:
    """An email switched between blocks and HTML. Its hand-written HTML becomes one raw-HTML block (as the
    schema reads an `html` email); blocks switched away from stay in the form, so switching back keeps them."""
    if mode == "blocks" and not row.blocks:
        blocks = [BlockRow(kind="html", html=row.html)] if row.html.strip() else starting_blocks()
        return dataclasses.replace(row, mode=mode, blocks=blocks)
    return dataclasses.replace(row, mode="blocks" if mode == "blocks" else "html")


@dataclasses.dataclass(frozen=True)
class NodeRow:
    kind: str = "email"
    id: str = ""
    next: str = BELOW
    # email
    delay: str = "0"
    subject: str = ""
    html: str = ""
    text: str = ""
    mode: str = "html"  # "blocks": the email is composed of `blocks`; "html": written by hand in `html`
    blocks: list[BlockRow] = dataclasses.field(default_factory=list)
    adding: str = "paragraph"  # the kind the step's "Add block" adds
    # wait
    duration: str = ""
    until: str = "none"  # none | time | between
    until_time: str = ""
    until_start: str = ""
    until_end: str = ""
    days: str = ""  # "mon, tue"
    # wait_for
    event: str = ""
    where: list[ConditionRow] = dataclasses.field(default_factory=list)
    match: str = ""
    timeout: str = ""
    # wait_for and branch
    paths: list[PathRow] = dataclasses.field(default_factory=list)
    # live counts of the saved version ("" for a node added since)
    waiting: str = ""
    passed: str = ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_value(text: str, op: str) -> Any:
    if op in ("is_set", "is_not_set"):
        return None
    if op == "in":
        return [parse_value(part.strip(), "eq") for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return text


def split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def condition_row(c: dict[str, Any]) -> ConditionRow:
    return ConditionRow(
        target="person_property" if c.get("person_property") else "property",
        key=c.get("property") or c.get("person_property") or "",
        op=c.get("op", "eq"),
        value=_text(c.get("value")),
    )


def condition_dict(c: ConditionRow) -> dict[str, Any]:
    return {c.target: c.key.strip(), "op": c.op, "value": parse_value(c.value, c.op)}


def _path_condition(c: dict[str, Any]) -> PathCondition:
    if "in_cohort" in c:
        return PathCondition(kind="cohort", cohort=str(c["in_cohort"]))
    if "was" in c:
        return PathCondition(kind="engagement", email=str(c.get("email", "")), was=str(c["was"]))
    if "did" in c:
        return PathCondition(kind="did", did=str(c["did"]), did_where=json.dumps(c["where"]) if c.get("where") else "")
    row = condition_row(c)
    return PathCondition(kind=row.target, key=row.key, op=row.op, value=row.value)


def _path_condition_dict(c: PathCondition) -> dict[str, Any]:
    if c.kind == "cohort":
        return {"in_cohort": c.cohort.strip()}
    if c.kind == "engagement":
        return {"email": c.email, "was": c.was}
    if c.kind == "did":
        return {"did": c.did.strip(), **({"where": json.loads(c.did_where)} if c.did_where else {})}
    return condition_dict(ConditionRow(target=c.kind, key=c.key, op=c.op, value=c.value))


def _took(took: dict[str, int], label: str) -> str:
    return str(took.get(label, 0)) if took else ""


def node_row(node: dict[str, Any], counts: dict[str, Any] | None = None) -> NodeRow:
    """A document node as the form edits it; `counts` are its live counts (store.node_counts)."""
    counts = counts or {}
    took = counts.get("took", {})
    live = {"waiting": str(counts.get("waiting", 0)), "passed": str(counts.get("passed", 0))} if counts else {}
    kind = node.get("type") or "email"
    base = {"kind": kind, "id": node.get("id", ""), "next": node.get("next") or BELOW, **live}
    if kind == "email":
        return NodeRow(
            **base,
            delay=_text(node.get("delay", 0)),
            subject=node.get("subject", ""),
            html=node.get("html", ""),
            text=node.get("text") or "",
            mode="blocks" if node.get("blocks") else "html",
            blocks=[block_row(b) for b in node.get("blocks") or [] if isinstance(b, dict)],
        )
    if kind == "wait":
        until = node.get("until") or {}
        between = until.get("between") or ["", ""]
        return NodeRow(
            **base,
            duration=_text(node.get("duration")),
            until="time" if until.get("time") else "between" if until.get("between") else "none",
            until_time=until.get("time") or "",
            until_start=between[0],
            until_end=between[1],
            days=_text(until.get("days")),
        )
    if kind == "wait_for":
        return NodeRow(
            **base,
            event=node.get("event", ""),
            where=[condition_row(c) for c in node.get("where", [])],
            match=_text(node.get("match")),
            timeout=_text(node.get("timeout")),
            paths=[
                PathRow("on_event", "It happened", node.get("on_event") or BELOW, took=_took(took, "happened")),
                PathRow("on_timeout", "Timed out", node.get("on_timeout") or BELOW, took=_took(took, "timed out")),
            ],
        )
    if kind == "branch":
        paths = [
            PathRow(
                str(i),
                p.get("name") or f"Path {i + 1}",
                p.get("then") or BELOW,
                name=p.get("name") or "",
                conditions=[_path_condition(c) for c in p.get("when", [])],
                took=_took(took, p.get("name") or f"path {i + 1}"),
            )
            for i, p in enumerate(node.get("paths", []))
        ]
        return NodeRow(
            **base,
            paths=[*paths, PathRow("else", "Everyone else", node.get("else") or BELOW, took=_took(took, "else"))],
        )
    return NodeRow(**base)


def node_dict(row: NodeRow) -> dict[str, Any]:
    """The document node the API takes for a form row (what is left empty is left out, for the schema to
    name if it is required)."""
    out: dict[str, Any] = {"id": row.id} if row.id else {}
    if row.kind == "email":
        out |= {"delay": row.delay.strip() or "0", "subject": row.subject}
        if row.mode == "blocks":
            out["blocks"] = [block_dict(b) for b in row.blocks]  # none: the schema says to add one
        else:
            out["html"] = row.html
        out |= {"text": row.text} if row.text.strip() else {}
    elif row.kind == "wait":
        out["type"] = "wait"
        if row.duration.strip():
            out["duration"] = row.duration.strip()
        if until := _until_dict(row):
            out["until"] = until
    elif row.kind == "wait_for":
        out |= {"type": "wait_for", "event": row.event.strip(), "timeout": row.timeout.strip()}
        if row.where:
            out["where"] = [condition_dict(c) for c in row.where]
        if split(row.match):
            out["match"] = split(row.match)
        for path in row.paths:
            if path.then:
                out[path.key] = path.then
    elif row.kind == "branch":
        out |= {"type": "branch", "paths": []}
        for path in row.paths:
            if path.key == "else":
                if path.then:
                    out["else"] = path.then
                continue
            out["paths"].append(
                {
                    **({"name": path.name.strip()} if path.name.strip() else {}),
                    "when": [_path_condition_dict(c) for c in path.conditions],
                    **({"then": path.then} if path.then else {}),
                }
            )
    else:
        out["type"] = "exit"
    if row.kind in ("email", "wait") and row.next:
        out["next"] = row.next
    return out


def _until_dict(row: NodeRow) -> dict[str, Any]:
    until: dict[str, Any] = {}
    if row.until == "time":
        until["time"] = row.until_time.strip()
    elif row.until == "between":
        until["between"] = [row.until_start.strip(), row.until_end.strip()]
    if split(row.days):
        until["days"] = [d.lower()[:3] for d in split(row.days)]
    return until


def new_node(kind: str, node_id: str) -> NodeRow:
    """A node as "Add step" makes it: the defaults a marketer most often wants."""
    if kind == "wait":
        return NodeRow(kind=kind, id=node_id, duration="1d")
    if kind == "wait_for":
        return node_row({"type": "wait_for", "id": node_id, "timeout": "24h"})
    if kind == "branch":
        return node_row({"type": "branch", "id": node_id, "paths": [{"when": [{"property": "", "op": "eq"}]}]})
    if kind == "exit":
        return NodeRow(kind=kind, id=node_id)
    return NodeRow(kind="email", id=node_id, delay="0", mode="blocks", blocks=starting_blocks())


def blank_email() -> dict[str, Any]:
    """A blank campaign's first email, as the document holds it: composed of the starting blocks."""
    return {"blocks": [block_dict(b) for b in starting_blocks()]}


def is_journey(rows: list[NodeRow]) -> bool:
    """Anything but a straight line of emails: then every node carries an id, so pointers survive reordering."""
    return any(r.kind != "email" or r.next or r.paths for r in rows)


def with_ids(rows: list[NodeRow]) -> list[NodeRow]:
    """Each node with an id: the one it has, else the one the document gives it by position (step-N)."""
    return [r if r.id else dataclasses.replace(r, id=f"step-{i + 1}") for i, r in enumerate(rows)]


def fresh_id(rows: list[NodeRow], kind: str) -> str:
    taken = {r.id for r in rows} | {f"step-{i + 1}" for i in range(len(rows) + 1)}
    n = 1
    while f"{kind.replace('_', '-')}-{n}" in taken:
        n += 1
    return f"{kind.replace('_', '-')}-{n}"


def labels(rows: list[NodeRow]) -> list[str]:
    """Each node named as validation names it ("Step 3 (wait for checkout_completed)"), through the schema's
    own `node_label`; a node not valid yet is named by its position and kind."""
    adapter: TypeAdapter[Any] = TypeAdapter(Node)
    named = []
    for index, row in enumerate(rows):
        try:
            node = adapter.validate_python(node_dict(row))
        except ValidationError:
            named.append(f"Step {index + 1} ({KIND_WORDS[row.kind].lower()})")
            continue
        # node_label reads only steps[index]: a document holding this node there is enough
        steps: dict[str, Any] = {"steps": [node] * (index + 1)}
        named.append(node_label(CampaignDocument.model_construct(**steps), index))
    return named


def written_later(rows: list[NodeRow]) -> list[bool]:
    """Per node: an email that is not an outbox row until a contact gets to it. A contact's emails are
    written as it enrols as far as the journey goes without a choice — through emails and plain waits (a
    wait's end is known) — and the ones past a wait_for or a branch only when the contact gets past it
    (services/campaigns/journeys.py). Until then Messages, the Dashboard and Archive do not count them."""
    index_of = {row.id: i for i, row in enumerate(rows) if row.id}
    at_once: set[int] = set()
    index: int | None = 0 if rows else None
    while index is not None and index not in at_once and rows[index].kind in ("email", "wait"):
        at_once.add(index)
        following = index + 1 if index + 1 < len(rows) else None
        index = index_of.get(rows[index].next) if rows[index].next else following
    return [row.kind == "email" and i not in at_once for i, row in enumerate(rows)]


def unlink(rows: list[NodeRow], gone: str) -> list[NodeRow]:
    """Ways out that led to a removed node go to the step below instead."""

    def clear(value: str) -> str:
        return BELOW if value == gone else value

    return [
        dataclasses.replace(r, next=clear(r.next), paths=[dataclasses.replace(p, then=clear(p.then)) for p in r.paths])
        for r in rows
    ]


# Where the document's error locations sit in the form: a wait's time window is three fields in the builder
# (`until_time`, `until_start`/`until_end`, `until_days`), so each refusal is shown under, and tied to, its field.
_UNTIL_FIELDS = {"time": "until_time", "between.0": "until_start", "between.1": "until_end", "days": "until_days"}


def form_field(loc: str) -> str:
    """A document error location as the form's field key: 'steps.1.until.between.0' → 'steps.1.until_start'."""
    parts = loc.split(".")
    if len(parts) > 3 and parts[0] == "steps" and parts[2] == "until":
        rest = ".".join(parts[3:])
        for key, field in _UNTIL_FIELDS.items():
            if rest == key or rest.startswith(key + "."):
                return ".".join([*parts[:2], field])
    return loc
