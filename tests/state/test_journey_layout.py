"""The builder draws a journey's ways out side by side: each path's nodes in its column until the paths meet
again, then the flow goes on below (state/journey_layout.py)."""

from humanic_app.state import journey_form as form
from humanic_app.state.journey_layout import (
    END,
    FlowColumn,
    FlowItem,
    flow_layout,
    meeting_point,
    moved,
    moves,
    removed,
)


def _email(node_id: str, next_: str = "") -> dict:
    return {"id": node_id, "subject": node_id, "html": "<p>x</p>", **({"next": next_} if next_ else {})}


def _rows(*steps: dict) -> list[form.NodeRow]:
    return [form.node_row(step) for step in steps]


def _shape(runs: list[FlowColumn]) -> list:
    """The layout in short: a node is its step number, a split is (number, [column, …]), a column's note last."""

    def items(run: list[FlowItem]) -> list:
        return [
            (i.node + 1, [[*items(c.steps), *([c.note] if c.note else [])] for c in i.columns])
            if i.columns
            else i.node + 1
            for i in run
        ]

    return [[*items(r.steps), *([r.note] if r.note else [])] for r in runs]


def test_a_linear_campaign_is_one_run_without_columns():
    rows = _rows({"subject": "a", "html": "x"}, {"subject": "b", "html": "x"})
    assert _shape(flow_layout(rows)) == [[1, 2]]


def test_a_wait_for_whose_two_paths_meet_again():
    rows = _rows(
        _email("hello"),
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "thanks"},
        _email("nudge", next_="after"),
        _email("thanks"),
        _email("after"),
    )
    assert meeting_point(rows, 1) == 4
    assert _shape(flow_layout(rows)) == [[1, (2, [[4], [3]]), 5]]
    split = flow_layout(rows)[0].steps[1]
    assert [(c.path, c.title) for c in split.columns] == [(0, "It happened"), (1, "Timed out")]


def test_a_branch_with_three_paths():
    rows = _rows(
        {
            "id": "split",
            "type": "branch",
            "paths": [
                {"when": [{"property": "plan", "op": "eq", "value": "pro"}], "then": "pro"},
                {"name": "Teams", "when": [{"property": "plan", "op": "eq", "value": "team"}], "then": "team"},
            ],
            "else": "free",
        },
        _email("pro", next_="done"),
        _email("team", next_="done"),
        _email("free"),
        {"id": "done", "type": "exit"},
    )
    layout = flow_layout(rows)
    assert _shape(layout) == [[(1, [[2], [3], [4]]), 5]]
    assert [c.title for c in layout[0].steps[0].columns] == ["Path 1", "Teams", "Everyone else"]


def test_nested_branches_sit_in_their_paths_column():
    rows = _rows(
        {"id": "outer", "type": "branch", "paths": [{"when": [{"did": "x"}], "then": "inner"}], "else": "late"},
        {"id": "inner", "type": "branch", "paths": [{"when": [{"did": "y"}], "then": "a"}], "else": "b"},
        _email("a", next_="done"),
        _email("b", next_="done"),
        _email("late", next_="done"),
        _email("done"),
    )
    assert _shape(flow_layout(rows)) == [[(1, [[(2, [[3], [4]])], [5]]), 6]]


def test_a_path_that_exits_runs_to_its_end_in_its_column():
    rows = _rows(
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "bye"},
        _email("nudge", next_="after"),
        {"id": "bye", "type": "exit"},
        _email("after"),
    )
    assert meeting_point(rows, 0) == END  # the exit reaches nothing: the paths never meet
    assert _shape(flow_layout(rows)) == [[(1, [[3], [2, 4]])]]


def test_a_path_that_ends_the_journey_before_the_others_meet_says_so():
    rows = _rows(
        {"id": "s", "type": "branch", "paths": [{"when": [{"did": "x"}], "then": "t"}], "else": "z"},
        {"id": "t", "type": "branch", "paths": [{"when": [{"did": "y"}], "then": "x"}], "else": "y"},
        _email("x", next_="z"),
        _email("z", next_="fin"),
        {"id": "fin", "type": "exit"},
        _email("y"),  # the last node: it ends the journey, never reaching z
    )
    assert meeting_point(rows, 0) == 3
    assert meeting_point(rows, 1) == END
    assert _shape(flow_layout(rows)) == [
        [(1, [[(2, [[3, "Then goes to Step 4"], [6]]), "Then the journey ends"], []]), 4, 5]
    ]


def test_a_way_to_a_node_drawn_elsewhere_ends_its_column_with_a_note():
    rows = _rows(
        {
            "id": "split",
            "type": "branch",
            "paths": [{"when": [{"did": "x"}], "then": "a"}, {"when": [{"did": "y"}], "then": "b"}],
            "else": "out",
        },
        _email("a", next_="done"),
        _email("b", next_="a"),  # into the first path's nodes, which the third path never reaches
        {"id": "done", "type": "exit"},
        {"id": "out", "type": "exit"},
    )
    assert meeting_point(rows, 0) == END
    assert _shape(flow_layout(rows)) == [[(1, [[2, 4], [3, "Then goes to Step 2"], [5]])]]


def test_deeper_splits_list_their_paths_nodes_below_them():
    rows = _rows(
        {"id": "s1", "type": "branch", "paths": [{"when": [{"did": "x"}], "then": "s2"}], "else": "done"},
        {"id": "s2", "type": "branch", "paths": [{"when": [{"did": "y"}], "then": "a"}], "else": "done"},
        _email("a", next_="done"),
        {"id": "done", "type": "exit"},
    )
    assert _shape(flow_layout(rows, depth=1)) == [[(1, [[(2, [[], []]), 3], []]), 4]]
    assert _shape(flow_layout(rows, depth=2)) == [[(1, [[(2, [[3], []])], []]), 4]]


def test_nodes_nothing_leads_to_come_after_the_journey_and_a_loop_stops():
    rows = _rows(_email("a", next_="c"), _email("b"), _email("c", next_="a"))
    assert _shape(flow_layout(rows)) == [[1, 3, "Then goes to Step 1"], [2, "Then goes to Step 3"]]


def _ids(rows: list[form.NodeRow]) -> list[tuple[str, str]]:
    return [(r.id, r.next) for r in rows]


def test_a_step_moves_up_within_its_column_and_the_ways_follow():
    rows = _rows(
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "a", "on_timeout": "x"},
        _email("a"),
        _email("b", next_="after"),
        _email("x", next_="after"),
        _email("after"),
    )
    assert _shape(flow_layout(rows)) == [[(1, [[2, 3], [4]]), 5]]
    assert moves(rows) == [(False, False), (False, True), (True, False), (False, False), (False, False)]

    swapped = moved(rows, 2, -1)
    assert swapped is not None
    assert _ids(swapped) == [("hold", ""), ("b", ""), ("a", "after"), ("x", "after"), ("after", "")]
    assert swapped[0].paths[0].then == "b"  # "it happened" now leads to b first
    assert _shape(flow_layout(swapped)) == [[(1, [[2, 3], [4]]), 5]]
    assert [swapped[n].id for n in (1, 2)] == ["b", "a"]
    assert moved(swapped, 1, 1) == rows  # and back


def test_a_linear_campaign_moves_as_before():
    rows = _rows({"subject": "a", "html": "x"}, {"subject": "b", "html": "x"}, {"subject": "c", "html": "x"})
    assert [r.subject for r in moved(rows, 2, -1) or []] == ["a", "c", "b"]
    assert moved(rows, 0, -1) is None and moved(rows, 2, 1) is None


def test_a_split_its_meeting_point_and_the_top_of_a_column_stay_put():
    rows = _rows(
        _email("hello"),
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "thanks"},
        _email("nudge", next_="after"),
        _email("thanks"),
        _email("after"),
    )
    assert moves(rows) == [(False, False), (False, False), (False, False), (False, False), (False, False)]


def test_removing_a_step_of_a_column_keeps_the_path_going_where_the_step_went():
    rows = _rows(
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "a", "on_timeout": "x"},
        _email("a"),
        _email("b", next_="after"),
        _email("x", next_="after"),
        _email("after"),
    )
    left = removed(rows, 1)
    assert [p.then for p in left[0].paths] == ["", "x"]  # the step below: b, where a went
    assert _shape(flow_layout(left)) == [[(1, [[2], [3]]), 4]]
    assert _shape(flow_layout(removed(rows, 2))) == [[(1, [[2], [3]]), 4]]  # a now goes on to after itself
    assert removed(rows, 2)[1].next == "after"


def test_removing_a_split_leads_its_ways_in_to_where_its_paths_met():
    rows = _rows(
        _email("hello", next_="hold"),
        {"id": "hold", "type": "wait_for", "event": "done", "timeout": "1h", "on_event": "thanks"},
        _email("nudge", next_="after"),
        _email("thanks"),
        _email("after"),
    )
    left = removed(rows, 1)
    assert left[0].next == "after"
    assert _shape(flow_layout(left)) == [[1, 4], [2, "Then goes to Step 4"], [3, "Then goes to Step 4"]]


def test_removing_from_a_linear_campaign_closes_the_gap():
    rows = _rows({"subject": "a", "html": "x"}, {"subject": "b", "html": "x"}, {"subject": "c", "html": "x"})
    assert [(r.subject, r.next) for r in removed(rows, 1)] == [("a", ""), ("c", "")]
