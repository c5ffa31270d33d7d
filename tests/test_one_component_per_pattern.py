"""One component per pattern: every status pill is components/pill.py's and every confirmation is
components/feedback.confirm_action, so pages cannot drift apart in contrast, size or phone width. Pages and
other modules outside humanic_app/components/ may not build either from Radix's parts themselves."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "humanic_app"
BUILT_ONLY_IN_COMPONENTS = ("rx.badge(", "alert_dialog")


def _outside_components(app: Path, needle: str) -> list[str]:
    return sorted(
        f"{path.relative_to(app.parent)}:{number}"
        for path in app.rglob("*.py")
        if app / "components" not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if needle in line
    )


def test_pills_and_confirm_dialogs_are_built_only_in_components():
    found = {needle: where for needle in BUILT_ONLY_IN_COMPONENTS if (where := _outside_components(APP, needle))}
    assert found == {}, f"use components/pill.py (pill, status_pill) or feedback.confirm_action instead: {found}"


def test_the_check_sees_a_page_that_builds_its_own(tmp_path):
    app = tmp_path / "humanic_app"
    (app / "pages").mkdir(parents=True)
    (app / "components").mkdir()
    (app / "pages" / "own.py").write_text('import reflex as rx\n\nbadge = rx.badge("draft")\n')
    (app / "components" / "pill.py").write_text('import reflex as rx\n\nbadge = rx.badge("draft")\n')
    assert _outside_components(app, "rx.badge(") == ["humanic_app/pages/own.py:3"]
