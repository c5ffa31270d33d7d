"""How the builder draws a journey: the nodes as a tree of side-by-side paths, read from the nodes' ways out.

A wait_for or a branch opens one column per way out; each column holds the nodes down that way until the
ways meet again (the first node every way reaches), and the flow goes on below the columns from there. A way
that never meets the others (it exits, or ends the journey) runs to its end in its column. Each node is drawn
once: a way that leads to a node drawn elsewhere (or back up) ends its column with a note saying where it goes.
Nodes nothing leads to (while a journey is being edited) come after the journey, each run on its own, so they
can still be edited. Pure: the form's rows in, the layout out (the page renders it, the tests read it)."""

from __future__ import annotations

import dataclasses

from humanic_app.state.journey_form import NodeRow

END = -1  # the end of the journey, as a place a way out can lead
DEPTH = 2  # columns drawn inside columns this deep at most; a split deeper still lists its paths' nodes below it


@dataclasses.dataclass(frozen=True)
class FlowItem:
    """A node as the flow draws it (`node`: its index in the form); a wait_for or branch has its `columns`."""

    node: int
    columns: list[FlowColumn] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class FlowColumn:
    """A run of nodes: one way out of node `node` (`path`: its index in that node's paths), or with `node` -1
    a run at the top (the journey from its trigger, then any nodes nothing leads to). `note` says where it goes
    on when that is not where the ways meet ("" when it meets them, or exits)."""

    node: int
    path: int
    title: str
    steps: list[FlowItem]
    note: str = ""


def ways_out(rows: list[NodeRow], index: int) -> list[int]:
    """Where node `index` can go, one entry per way out: a node's index, or END."""
    row = rows[index]
    at = {r.id: i for i, r in enumerate(rows) if r.id}
    below = index + 1 if index + 1 < len(rows) else END

    def to(target: str) -> int:
        return at.get(target, END) if target else below

    if row.kind == "exit":
        return []
    if row.kind in ("wait_for", "branch"):
        return [to(p.then) for p in row.paths]
    return [to(row.next)]


def _reach(rows: list[NodeRow], start: int) -> set[int]:
    seen: set[int] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node != END:
            todo.extend(ways_out(rows, node))
    return seen


def meeting_point(rows: list[NodeRow], index: int) -> int:
    """Where the ways out of node `index` meet again: of the nodes every way reaches, the first (the one that
    reaches most); END when they never meet."""
    reached = [_reach(rows, target) for target in ways_out(rows, index)]
    common = set.intersection(*reached) if reached else set()
    if not common:
        return END
    return max(common, key=lambda node: (len(_reach(rows, node)), -node))


def flow_layout(rows: list[NodeRow], depth: int = DEPTH) -> list[FlowColumn]:
    """The journey from its first node, then a run for each node nothing drawn so far leads to."""
    drawn: set[int] = set()
    runs = []
    for start in range(len(rows)):
        if start not in drawn:
            items, note = _walk(rows, drawn, start, END, frozenset(), 0, depth)
            runs.append(FlowColumn(node=-1, path=-1, title="", steps=items, note=note))
    return runs


def _walk(
    rows: list[NodeRow], drawn: set[int], node: int, meet: int, stops: frozenset[int], level: int, depth: int
) -> tuple[list[FlowItem], str]:
    """The nodes from `node` on until `meet` (where this run's ways meet again): the items and the run's note."""
    items: list[FlowItem] = []
    while node != meet:
        if node == END:
            return items, "Then the journey ends"
        if node in stops or node in drawn:
            return items, f"Then goes to Step {node + 1}"
        drawn.add(node)
        if rows[node].kind not in ("wait_for", "branch"):
            items.append(FlowItem(node=node))
            if not (following := ways_out(rows, node)):
                return items, ""  # an exit
            node = following[0]
            continue
        joins = meeting_point(rows, node)
        inner = stops | ({meet} - {END})
        columns, below = [], []
        for j, target in enumerate(ways_out(rows, node)):
            run, note = _walk(rows, drawn, target, joins, inner, level + 1, depth)
            nested = run if level < depth else []
            below += [] if level < depth else run  # too deep for columns: the paths' nodes follow the split
            columns.append(FlowColumn(node=node, path=j, title=rows[node].paths[j].title, steps=nested, note=note))
        items += [FlowItem(node=node, columns=columns), *below]
        node = joins
    return items, ""
