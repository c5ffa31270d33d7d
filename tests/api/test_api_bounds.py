"""Ids, cursors and limits are bounded in the routes, and a value the database refuses is never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError

from humanic_app.api.errors import install_error_handlers
from humanic_app.api.fields import MAX_ROW_ID

# The values a fuzzer sent that reached the database and came back as 500s.
HUGE = 179027300401079154921109895249920
HUGE_NEGATIVE = -787592418550755446751232


def test_an_id_past_the_id_column_is_a_422_naming_it_and_the_largest_id_is_a_404(authed, source):
    refused = authed.post(f"/api/v1/sources/{HUGE}/activate")
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["path", "source_id"]
    for path in (f"/api/v1/campaigns/{MAX_ROW_ID + 1}", "/api/v1/messages/0", f"/api/v1/events/{-HUGE}"):
        assert authed.get(path).status_code == 422, path
    missing = authed.get(f"/api/v1/contacts/{MAX_ROW_ID}")
    assert missing.status_code == 404 and missing.json() == {"detail": f"No contact with id {MAX_ROW_ID}."}
    assert authed.get(f"/api/v1/sources/{source['id']}").status_code == 200


def test_cursors_and_row_filters_are_bounded_too(authed):
    for path, params in (
        ("/api/v1/events", {"cursor": HUGE_NEGATIVE}),
        ("/api/v1/contacts", {"cursor": HUGE}),
        ("/api/v1/messages", {"campaign_id": HUGE}),
        ("/api/v1/events", {"source_id": HUGE}),
        ("/api/v1/messages", {"limit": 501}),
    ):
        response = authed.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]
    assert authed.get("/api/v1/events", params={"cursor": MAX_ROW_ID}).json() == {"items": [], "next_cursor": None}


def test_a_value_the_database_refuses_is_a_logged_422(caplog):
    api = FastAPI()
    install_error_handlers(api)

    @api.get("/refused")
    def refused():
        raise DataError("SELECT %(x)s::integer", {"x": HUGE}, Exception("integer out of range"))

    with caplog.at_level(logging.WARNING, logger="humanic_app.api.errors"):
        response = TestClient(api).get("/refused")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["request"]
    assert "database refused a value for GET /refused: integer out of range" in caplog.text
