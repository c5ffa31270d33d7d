"""Which way imports point: the contracts of `.importlinter` hold (services import nothing of the web
app, the workers or Reflex; the event path points downward; the API is handed its work), and no two
parts of the app import each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_import_contract_is_kept():
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_contract_is_reported(tmp_path):
    """The check sees the real graph: workers.py does import services, so forbidding it must fail."""
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_package = humanic_app\n\n"
        "[importlinter:contract:upside-down]\nname = upside down\ntype = forbidden\n"
        "source_modules =\n    humanic_app.workers\nforbidden_modules =\n    humanic_app.services\n"
    )
    result = _lint(config)
    assert result.returncode == 1 and "upside down BROKEN" in result.stdout, result.stdout + result.stderr


def test_no_two_parts_of_a_package_import_each_other(monkeypatch):
    """Within every package (the app's top level included), its modules and subpackages form no circle."""
    monkeypatch.syspath_prepend(str(ROOT))
    graph = grimp.build_graph("humanic_app", cache_dir=None)
    packages = sorted(module for module in graph.modules if graph.find_children(module))
    assert "humanic_app.services.intake" in packages
    circles = {package: breakers for package in packages if (breakers := graph.nominate_cycle_breakers(package))}
    assert circles == {}
