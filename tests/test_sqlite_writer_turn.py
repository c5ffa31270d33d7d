"""SQLite writers take turns through a lock that is handed over at commit (not SQLite's sleeping busy
handler), across threads and processes; read-only sessions never wait for a writer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

from sqlalchemy import text

from humanic_app.db import make_engine, read_scope, session_scope
from tests.support.server import PROJECT


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'humanic.db'}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE workspace (name TEXT)"))
        session.execute(text("INSERT INTO workspace VALUES ('initial')"))
    return engine


def test_a_read_only_session_does_not_wait_for_a_writer(tmp_path):
    engine = _engine(tmp_path)
    with session_scope(engine) as writer:
        writer.execute(text("UPDATE workspace SET name = 'held'"))
        started = time.monotonic()
        with read_scope(engine) as reader:
            names = list(reader.execute(text("SELECT name FROM workspace")).scalars())
        assert time.monotonic() - started < 1.0
        assert "held" not in names  # a snapshot from before the uncommitted write


def test_a_second_writer_goes_in_when_the_first_commits_or_rolls_back(tmp_path):
    engine = _engine(tmp_path)
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait()
        with session_scope(engine) as session:
            session.execute(text("UPDATE workspace SET name = 'second'"))
            order.append("second wrote")

    thread = threading.Thread(target=second)
    thread.start()
    with session_scope(engine) as session:
        session.execute(text("UPDATE workspace SET name = 'first'"))
        first_in.set()
        time.sleep(0.3)
        order.append("first commits")
    thread.join(timeout=10)
    assert order == ["first commits", "second wrote"]

    try:
        with session_scope(engine) as session:
            session.execute(text("UPDATE workspace SET name = 'rolled back'"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with session_scope(engine) as session:  # would wait the busy timeout if the turn had not been given back
        assert session.execute(text("SELECT name FROM workspace")).scalar_one() == "second"


def test_writers_in_another_process_wait_for_the_turn(tmp_path):
    engine = _engine(tmp_path)
    script = textwrap.dedent(f"""
        import sys, time
        from sqlalchemy import text
        from humanic_app.db import make_engine, session_scope
        engine = make_engine("sqlite:///{tmp_path / "humanic.db"}")
        with session_scope(engine) as session:
            session.execute(text("UPDATE workspace SET name = 'other process'"))
            print("holding", flush=True)
            time.sleep(1.0)
    """)
    other = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with session_scope(engine) as session:
            name = session.execute(text("SELECT name FROM workspace")).scalar_one()
            waited = time.monotonic() - started
        assert waited > 0.5
        assert name == "other process"
    finally:
        other.wait(timeout=10)
