"""How the builder draws a journey: the nodes as a tree of side-by-side paths, read from the nodes' ways out.

A wait_for or a branch opens one column per way out; each column holds the nodes down that way until the
ways meet again (the first node every way reaches), and the flow goes on below the columns from there. A way
that never meets the others (it exits, or ends the journey) runs to its end in its column. Each node is drawn
once: a way that leads to a node drawn elsewhere (or back up) ends its column with a note saying where it goes.
Nodes nothing leads to (while a journey is being edited) come after the journey, each run on its own, so they
can still be edited. Pure: the form's rows in, the layout out (the page renders it, the tests read it)."""

from __future__ import annotations

import dataclasses

from humanic_app.state.journey_form import BELOW, NodeRow, unlink

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


def _ways(row: NodeRow, index: int, at: dict[str, int], count: int) -> list[int]:
    below = index + 1 if index + 1 < count else END

    def to(target: str) -> int:
        return at.get(target, END) if target else below

    if row.kind == "exit":
        return []
    if row.kind in ("wait_for", "branch"):
        return [to(p.then) for p in row.paths]
    return [to(row.next)]


@dataclasses.dataclass
class _Graph:
    """The nodes' ways out by index, and what each reaches (worked out once per layout: the builder lays the
    journey out again on every edit)."""

    ways: list[list[int]]
    reached: dict[int, set[int]] = dataclasses.field(default_factory=dict)

    def reach(self, start: int) -> set[int]:
        if start not in self.reached:
            seen: set[int] = set()
            todo = [start]
            while todo:
                node = todo.pop()
                if node not in seen:
                    seen.add(node)
                    todo.extend(self.ways[node] if node != END else [])
            self.reached[start] = seen
        return self.reached[start]

    def meet(self, index: int) -> int:
        reached = [self.reach(target) for target in self.ways[index]]
        common = set.intersection(*reached) if reached else set()
        if not common:
            return END
        return max(common, key=lambda node: (len(self.reach(node)), -node))


def _graph(rows: list[NodeRow]) -> _Graph:
    at = {r.id: i for i, r in enumerate(rows) if r.id}
    return _Graph(ways=[_ways(row, i, at, len(rows)) for i, row in enumerate(rows)])


def ways_out(rows: list[NodeRow], index: int) -> list[int]:
    """Where node `index` can go, one entry per way out: a node's index, or END."""
    return _graph(rows).ways[index]


def meeting_point(rows: list[NodeRow], index: int) -> int:
    """Where the ways out of node `index` meet again: of the nodes every way reaches, the first (the one that
    reaches most); END when they never meet."""
    return _graph(rows).meet(index)


def flow_layout(rows: list[NodeRow], depth: int = DEPTH) -> list[FlowColumn]:
    """The journey from its first node, then a run for each node nothing drawn so far leads to."""
    drawn: set[int] = set()
    runs = []
    graph = _graph(rows)
    for start in range(len(rows)):
        if start not in drawn:
            items, note = _walk(rows, graph, drawn, start, END, frozenset(), 0, depth)
            runs.append(FlowColumn(node=-1, path=-1, title="", steps=items, note=note))
    return runs


def _walk(
    rows: list[NodeRow],
    graph: _Graph,
    drawn: set[int],
    node: int,
    meet: int,
    stops: frozenset[int],
    level: int,
    depth: int,
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
            if not (following := graph.ways[node]):
                return items, ""  # an exit
            node = following[0]
            continue
        joins = graph.meet(node)
        inner = stops | ({meet} - {END})
        columns, below = [], []
        for j, target in enumerate(graph.ways[node]):
            run, note = _walk(rows, graph, drawn, target, joins, inner, level + 1, depth)
            nested = run if level < depth else []
            below += [] if level < depth else run  # too deep for columns: the paths' nodes follow the split
            columns.append(FlowColumn(node=node, path=j, title=rows[node].paths[j].title, steps=nested, note=note))
        items += [FlowItem(node=node, columns=columns), *below]
        node = joins
    return items, ""


def _runs_by_node(runs: list[FlowColumn], into: dict[int, list[int]] | None = None) -> dict[int, list[int]]:
    """Each node's run (a column, or the journey itself): the nodes it draws, in order."""
    into = {} if into is None else into
    for run in runs:
        nodes = [item.node for item in run.steps]
        for item in run.steps:
            into[item.node] = nodes
            _runs_by_node(item.columns, into)
    return into


def _partner(rows: list[NodeRow], runs: dict[int, list[int]], index: int, offset: int) -> tuple[int, int] | None:
    """The two nodes that trade places when node `index` moves by `offset` in its run (upper first), or None:
    only two emails or waits that follow each other in the document, the upper going on into the lower,
    and nothing else leading into the lower (it would then be passed through the upper too)."""
    run = runs.get(index, [])
    at = run.index(index) if index in run else -1
    if not 0 <= at + offset < len(run):
        return None
    first, second = sorted((index, run[at + offset]))
    upper, lower = rows[first], rows[second]
    simple = upper.kind in ("email", "wait") and lower.kind in ("email", "wait")
    if not simple or second != first + 1 or upper.next not in ("", lower.id) or _led_to(rows, lower.id, first):
        return None
    return first, second


def moved(rows: list[NodeRow], index: int, offset: int) -> list[NodeRow] | None:
    """Node `index` moved one place up (-1) or down (1) within its run, as the flow draws it; None when it
    cannot move so (`_partner`). The two trade places and ways: ways into the upper now lead into the other,
    which goes on into it, and it goes on to where the other went."""
    pair = _partner(rows, _runs_by_node(flow_layout(rows, depth=len(rows))), index, offset)
    if pair is None:
        return None
    first, second = pair
    upper, lower = rows[first], rows[second]

    def into_lower(target: str) -> str:
        return lower.id if target and target == upper.id else target

    out = [
        dataclasses.replace(
            r, next=into_lower(r.next), paths=[dataclasses.replace(p, then=into_lower(p.then)) for p in r.paths]
        )
        for r in rows
    ]
    out[first] = dataclasses.replace(lower, next="")  # the step below: the other one
    out[second] = dataclasses.replace(upper, next=lower.next if lower.next != upper.id else "")
    return out


def _led_to(rows: list[NodeRow], node_id: str, besides: int) -> bool:
    """Whether a way of a node other than `besides` names `node_id`."""
    return bool(node_id) and any(
        r.next == node_id or any(p.then == node_id for p in r.paths) for i, r in enumerate(rows) if i != besides
    )


def moves(rows: list[NodeRow]) -> list[tuple[bool, bool]]:
    """Per node: whether it can move up, and down, within its run (what Move up / Move down offer)."""
    runs = _runs_by_node(flow_layout(rows, depth=len(rows)))
    return [(_partner(rows, runs, i, -1) is not None, _partner(rows, runs, i, 1) is not None) for i in range(len(rows))]


def removed(rows: list[NodeRow], index: int) -> list[NodeRow]:
    """The rows without node `index`, each way that led into it now leading where it led: an email's or a
    wait's next node, a split's meeting point (its paths' nodes are then no way's); a way into an exit, or
    into a node that ended the journey, goes to the step below (`unlink`)."""
    graph = _graph(rows)
    outs = graph.ways[index]
    then = outs[0] if len(outs) == 1 else graph.meet(index) if outs else END
    onto = rows[then].id if then != END else BELOW

    def way(i: int, value: str, target: int) -> str:
        if target != index:
            return value
        return BELOW if i == index - 1 and then == index + 1 else onto

    out = []
    for i, r in enumerate(rows):
        if i == index:
            continue
        targets = graph.ways[i]
        if r.kind in ("wait_for", "branch"):
            paths = [dataclasses.replace(p, then=way(i, p.then, t)) for p, t in zip(r.paths, targets, strict=True)]
            out.append(dataclasses.replace(r, paths=paths))
        else:
            out.append(dataclasses.replace(r, next=way(i, r.next, targets[0])) if targets else r)
    return unlink(out, rows[index].id) if rows[index].id else out
