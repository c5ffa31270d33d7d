"""The CLI, run as a real subprocess with HUMANIC_DATA_DIR or DATABASE_URL, exactly as an operator would."""

from humanic_app.db import make_engine, session_scope
from humanic_app.services import auth
from tests.support.cli import run_cli


def test_cli_against_data_dir(tmp_path):
    env = {"HUMANIC_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    assert (tmp_path / "data" / "humanic.db").exists()
    created = run_cli("create-user", "--email", "owner@acme.io", "--password", "0123456789", env=env)
    assert created.returncode == 0 and "owner" in created.stdout
    duplicate = run_cli("create-user", "--email", "owner@acme.io", "--password", "0123456789", env=env)
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    made = run_cli("api-key", "create", "--name", "ci", env=env)
    assert made.returncode == 0
    key = made.stdout.strip().splitlines()[-1]
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'humanic.db'}")
    with session_scope(engine) as session:
        assert auth.principal_for_api_key(session=session, key=key) is not None
    listed = run_cli("api-key", "list", env=env)
    assert "ci" in listed.stdout and key not in listed.stdout
    engine.dispose()


def test_cli_against_postgres(postgres_url):
    env = {"DATABASE_URL": postgres_url.replace("postgresql+psycopg://", "postgres://")}
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "PostgreSQL" in migrated.stdout
    assert run_cli("create-user", "--email", "o@acme.io", "--password", "0123456789", env=env).returncode == 0
    engine = make_engine(postgres_url)
    with session_scope(engine) as session:
        assert auth.has_users(session=session)
    engine.dispose()
