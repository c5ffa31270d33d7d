"""The typed helpers over SQLModel rows: a stored row's id, a table model's Core table, a list bound as one."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, event, func
from sqlmodel import Session, col, select

from humanic_app.models import Campaign, Contact, ContactIdentity, Event, IdentityKind
from humanic_app.models.rows import any_of, id_of, table_of


def test_id_of_returns_the_id_of_a_stored_row():
    assert id_of(Campaign(id=7, name="Welcome", trigger_event="signed_up")) == 7


def test_id_of_refuses_a_row_never_flushed():
    with pytest.raises(ValueError, match="Campaign has no id"):
        id_of(Campaign(name="Welcome", trigger_event="signed_up"))


def test_table_of_is_the_models_core_table():
    table = table_of(Event)
    assert isinstance(table, Table) and table.name == "event" and "payload" in table.c


_OWNERS = select(ContactIdentity.value, ContactIdentity.contact_id).where(
    ContactIdentity.kind == IdentityKind.distinct_id, any_of(col(ContactIdentity.value), "values")
)


def test_any_of_matches_what_in_matches_and_binds_one_array_on_postgresql(engine):
    with Session(engine) as session:
        for n in range(3):
            contact = Contact(email=f"U{n}@X.io")
            session.add(contact)
            session.flush()
            session.add(ContactIdentity(kind=IdentityKind.distinct_id, value=f"u{n}", contact_id=contact.id))
        session.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        connection = session.connection()
        for values in (["u0", "u2", "nobody"], ["u1"], [f"x{n}" for n in range(600)], []):
            found = sorted(value for value, _ in connection.execute(_OWNERS, {"values": values}))
            assert found == sorted(v for v in values if v in {"u0", "u1", "u2"})
        by_email = select(Contact.id).where(any_of(func.lower(Contact.email), "emails"))  # an untyped expression
        assert len(connection.execute(by_email, {"emails": ["u1@x.io", "u2@x.io"]}).all()) == 2
    if engine.dialect.name == "postgresql":  # one text, whatever the list's length: psycopg parses it once
        assert len(set(statements[:4])) == 1 and "= ANY (" in statements[0]
    else:
        assert "IN (" in statements[0] and "= 1" not in statements[0]  # a plain IN, which an index serves
