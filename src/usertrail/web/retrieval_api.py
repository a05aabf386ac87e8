"""POST /retrieve and POST /assist: help articles picked with what the user has been doing."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from usertrail.core.ids import ID_RULE, ID_SCHEMA, MAX_ID_CHARS, id_problem
from usertrail.retrieval.service import HelpService
from usertrail.web.deps import services_of
from usertrail.web.read_auth import BODY_ERRORS, ApiKey, project_of

router = APIRouter(tags=["retrieval"])


def _valid_id(text: str) -> str:
    if problem := id_problem(text):
        raise ValueError(f"{problem}: {ID_RULE}")  # pydantic's 422 names the rule
    return text


PersonIdField = Annotated[
    str,
    Field(min_length=1, max_length=MAX_ID_CHARS, json_schema_extra=ID_SCHEMA),
    AfterValidator(_valid_id),
]
_encode = msgspec.json.Encoder().encode


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "user_42", "query": "why did it fail?"}]},
    )

    user_id: PersonIdField = Field(description="Any of the user's ids")
    query: str = Field(max_length=2000, description="The user's question, as typed")
    k: int = Field(default=5, ge=1, le=50, description="How many articles (one section each)")


class AssistRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "user_42", "message": "how do I export?"}]},
    )

    user_id: PersonIdField
    message: str = Field(min_length=1, max_length=4000)


@router.post(
    "/retrieve",
    summary="Help chunks for a question, ranked with the user's behaviour",
    responses=BODY_ERRORS,
)
async def retrieve_help(request: Request, body: RetrieveRequest, credentials: ApiKey) -> Response:
    project = await project_of(request, credentials)
    found = await _help(request).search(project, body.user_id, body.query, body.k)
    return Response(_encode(found), media_type="application/json")


@router.post(
    "/assist",
    summary="An assistant answer: prompt, help and (optionally) an LLM",
    responses=BODY_ERRORS,
)
async def assist(request: Request, body: AssistRequest, credentials: ApiKey) -> Response:
    project = await project_of(request, credentials)
    answer = await _help(request).assist(project, body.user_id, body.message)
    return Response(_encode(answer), media_type="application/json")


def _help(request: Request) -> HelpService:
    return services_of(request).assistant
