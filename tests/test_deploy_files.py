"""The deployment files agree with each other and with the app, as no container engine runs here to find out:
the Dockerfile's header and README's settings table list the same variables, every variable Settings reads is
in them, compose.yaml passes only listed variables (its secrets required, never written in), and .dockerignore
keeps local state out of the build context but nothing deploy/build.sh copies, and reflex.lock/ pins the frontend
packages this version of Reflex installs."""

from __future__ import annotations

import fnmatch
import json
import re

import yaml
from reflex import constants

from humanic_app.settings import load_settings
from tests.support.server import PROJECT

VARIABLE = re.compile(r"[A-Z][A-Z0-9_]+")


def readme_settings() -> list[str]:
    """The first column of README's "Settings (environment)" table."""
    section = PROJECT.joinpath("README.md").read_text().split("## Settings (environment)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE)


def dockerfile_settings() -> list[str]:
    """The variables the Dockerfile's header comment lists under "Environment"."""
    header = []
    for line in PROJECT.joinpath("Dockerfile").read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    listing = "\n".join(header).split("# Environment", 1)[1]
    return re.findall(r"^#   ([A-Z][A-Z0-9_]+) ", listing, flags=re.MULTILINE)


class _Recording(dict):
    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


def test_the_dockerfile_and_the_readme_list_the_same_variables():
    readme, dockerfile = readme_settings(), dockerfile_settings()
    assert len(readme) >= 16 and len(set(readme)) == len(readme)
    assert sorted(dockerfile) == sorted(readme)


def test_every_variable_settings_reads_is_listed():
    environ = _Recording()
    load_settings(environ)
    assert environ.read, "load_settings read no variable from the mapping it was given"
    assert environ.read <= set(readme_settings())


def _compose() -> dict:
    return yaml.safe_load(PROJECT.joinpath("compose.yaml").read_text())


def test_compose_passes_listed_variables_and_requires_its_secrets():
    compose = _compose()
    listed = set(readme_settings())
    for name in ("web", "worker"):
        environment = compose["services"][name]["environment"]
        assert set(environment) <= listed, f"{name}: {set(environment) - listed} are not in README's settings table"
        assert environment["HUMANIC_WORKERS"] == "external"
        assert environment["HUMANIC_SECRET_KEY"].startswith("${HUMANIC_SECRET_KEY:?")
        assert re.search(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:", environment["DATABASE_URL"])
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_compose_starts_each_service_after_what_it_needs_is_healthy():
    services = _compose()["services"]
    assert services["worker"]["command"] == ["python", "-m", "humanic_app", "worker"]
    assert "command" not in services["web"]  # the image's: migrate, then serve
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {needed}"
            has_check = "healthcheck" in services[needed] or needed == "web"  # web: the image's HEALTHCHECK
            assert has_check and not services[needed].get("healthcheck", {}).get("disable"), f"{name} -> {needed}"
    assert "HEALTHCHECK" in PROJECT.joinpath("Dockerfile").read_text()


def _matches(parts: list[str], pattern: list[str]) -> bool:
    """Docker's matching: each segment like a shell glob, `**` any number of segments."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `path` out, itself or a folder holding it (its patterns hold no exceptions)."""
    parts = path.split("/")
    return any(_matches(parts[:i], p.split("/")) for p in patterns for i in range(1, len(parts) + 1))


def test_dockerignore_keeps_local_state_out_and_the_build_inputs_in():
    lines = PROJECT.joinpath(".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)
    for local in (
        ".venv",
        ".tools",
        "data",
        ".git",
        ".reflex",
        ".web",
        ".test-runs",
        "humanic_app/__pycache__",
        ".env",
    ):
        assert _ignored(local, patterns), local
    build_script = PROJECT.joinpath("deploy", "build.sh").read_text()
    app_files = re.search(r"APP_FILES=\((.*?)\)", build_script, flags=re.DOTALL)
    assert app_files
    frontend_lock = re.search(r"^FRONTEND_LOCK=(\S+)$", build_script, flags=re.MULTILINE)
    assert frontend_lock
    needed = [*app_files.group(1).split(), frontend_lock.group(1), "requirements.txt", "Makefile", "deploy/build.sh"]
    for path in needed:
        assert PROJECT.joinpath(path).exists(), path
        assert not _ignored(path, patterns), f"{path} is needed by deploy/build.sh but .dockerignore leaves it out"


def test_the_frontend_lockfile_pins_the_packages_this_reflex_installs():
    """Every build installs reflex.lock/'s versions; were they not Reflex's own pins (after a Reflex upgrade), the
    image build would stop at its lockfile check, so this says so first, in the fast tests."""
    lock_dir = PROJECT / "reflex.lock"
    package_json = json.loads(lock_dir.joinpath("package.json").read_text())
    bun_lock = lock_dir.joinpath("bun.lock").read_text()
    pinned = {
        "dependencies": constants.PackageJson.DEPENDENCIES,
        "devDependencies": constants.PackageJson.DEV_DEPENDENCIES,
    }
    for section, packages in pinned.items():
        for name, version in packages.items():
            assert package_json[section].get(name) == version, (
                f"reflex.lock/package.json: {name} is not at {version}: run 'make frontend-lock'"
            )
            resolved = re.search(rf'^    "{re.escape(name)}": \["{re.escape(name)}@([^"]+)"', bun_lock, re.MULTILINE)
            assert resolved, f"reflex.lock/bun.lock resolves no {name}: run 'make frontend-lock'"
            assert resolved.group(1) == version.removeprefix("v"), f"bun.lock has {name}@{resolved.group(1)}"
