"""/api/v1/topics: what a campaign's marketing email is about; recipients opt out per topic."""

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, RowId
from humanic_app.services import topics

router = APIRouter(route_class=TransactionRoute, prefix="/topics", tags=["topics"])


class TopicIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)


@router.get("", summary="List the workspace's topics, each with how many contacts opted out of it")
def list_topics(session: SessionDep) -> list[dict[str, Any]]:
    opted_out = topics.opt_out_counts(session=session)
    return [
        topics.topic_as_dict(t) | {"opted_out": opted_out.get(t.id or 0, 0)}
        for t in topics.list_topics(session=session)
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a topic", responses=responses(400, 422))
def add_topic(body: TopicIn, session: SessionDep) -> dict[str, Any]:
    return topics.topic_as_dict(topics.create_topic(session=session, name=body.name))


@router.patch("/{topic_id}", summary="Rename a topic (its key stays)", responses=responses(400, 404, 422))
def rename_topic(topic_id: RowId, body: TopicIn, session: SessionDep) -> dict[str, Any]:
    return topics.topic_as_dict(topics.rename_topic(session=session, topic_id=topic_id, name=body.name))


@router.delete(
    "/{topic_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a topic no campaign uses (its opt-outs go with it)",
    responses=responses(404, 409, 422),
)
def delete_topic(topic_id: RowId, session: SessionDep) -> None:
    topics.delete_topic(session=session, topic_id=topic_id)
