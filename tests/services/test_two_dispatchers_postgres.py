"""Two dispatchers on PostgreSQL against one outbox: every message sent, none twice (SKIP LOCKED)."""

import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import Message, MessageStatus
from humanic_app.services import workspace
from humanic_app.services.campaigns.preview import queue_test_send
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender, SendResult


@pytest.fixture
def pg_engine(postgres_url):
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    yield engine
    engine.dispose()


class CountingSender(LocalOutboxSender):
    name = "counting"
    max_batch = 7  # several batch calls per pass, so batches of both dispatchers interleave

    def __init__(self):
        self.keys = Counter()
        self.lock = threading.Lock()

    def send(self, emails, *, batch_key=None):
        time.sleep(0.01)  # a provider round trip, so the two dispatchers overlap
        with self.lock:
            self.keys.update(e.idempotency_key for e in emails)
        return [SendResult(message_id=e.message_id, ok=True, provider_message_id=str(uuid.uuid4())) for e in emails]


def test_two_dispatchers_send_each_message_exactly_once(pg_engine):
    with Session(pg_engine) as session:
        workspace.update_workspace(session=session, changes={"from_email": "hello@acme.io"})
        document = {"name": "t", "trigger": {"event": "x"}, "steps": [{"subject": "Hi", "html": "<p>Hi</p>"}]}
        template = queue_test_send(session=session, document=document, step_index=0, to="a@example.com", variables={})
        step = template.test_step
        session.delete(template)
        now = clock.now() - timedelta(seconds=1)
        session.execute(
            insert(Message),
            [
                {
                    "to_email": f"user{i}@example.com",
                    "step_index": 0,
                    "due_at": now,
                    "status": MessageStatus.scheduled,
                    "idempotency_key": f"k-{i}",
                    "variables": {},
                    "is_test": True,
                    "test_step": step,
                    "attempts": 0,
                    "last_error": "",
                    "created_at": now,
                }
                for i in range(400)
            ],
        )
        session.commit()

    sender = CountingSender()

    def run():
        while dispatcher.dispatch_due(engine=pg_engine, sender=sender, public_url="https://h.acme.io", limit=25).sent:
            pass

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(sender.keys) == 400 and set(sender.keys.values()) == {1}
    with Session(pg_engine) as session:
        assert {m.status for m in session.exec(select(Message))} == {MessageStatus.sent}
