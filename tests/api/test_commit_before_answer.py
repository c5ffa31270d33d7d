"""An API write is committed before its answer leaves: a client acting on the answer (PostHog given the
new URL, a script reading back what it created) must never see the state from before it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from humanic_app.api import build_api
from humanic_app.api.deps import get_db_engine
from humanic_app.models import Source
from humanic_app.services.sources import hash_token


def test_rotate_is_committed_when_the_answer_starts(engine, api_key):
    api = build_api()
    api.dependency_overrides[get_db_engine] = lambda: engine
    seen_when_answering: list[str] = []

    async def app(scope, receive, send):
        async def watching_send(message):
            if message["type"] == "http.response.start" and scope["path"].endswith("/rotate"):
                with engine.connect() as other:  # another connection: sees only what is committed
                    seen_when_answering.append(other.execute(select(Source.__table__.c.token_hash)).scalar_one())
            await send(message)

        await api(scope, receive, watching_send)

    with TestClient(app, headers={"Authorization": f"Bearer {api_key}"}) as client:
        source = client.post("/api/v1/sources", json={"name": "Production"}).json()
        rotated = client.post(f"/api/v1/sources/{source['id']}/rotate")
        assert rotated.status_code == 200
    new_token = rotated.json()["webhook_url"].rsplit("/", 1)[1]
    assert seen_when_answering == [hash_token(new_token)]
