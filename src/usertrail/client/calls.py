"""Each API call as data: what to send, and how to read the answer. The sync and async
clients send the same calls, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import msgspec
import orjson

from usertrail.client.answers import AccountContext, Assisted, PersonExport
from usertrail.client.errors import UnexpectedAnswer
from usertrail.model.context import UserContext
from usertrail.model.privacy import ErasureReport
from usertrail.retrieval.model import Retrieval

T = TypeVar("T")
Method = Literal["GET", "POST", "DELETE"]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: Method
    path: str
    read: Callable[[bytes], T]
    params: dict[str, str | int] = field(default_factory=dict)
    body: dict[str, Any] | None = None


def answer_of(call: Call[T], status: int, body: bytes) -> T:
    """A 2xx answer as the call reads it; UnexpectedAnswer when it cannot (not JSON, not
    UTF-8, not of the call's shape), so the client raises only its own errors."""
    try:
        return call.read(body)
    except ValueError as exc:  # msgspec.DecodeError, orjson's and UTF-8's errors are ones
        detail = f"not the answer {call.method} {call.path} gives: {exc}; {body[:200]!r}"
        raise UnexpectedAnswer(status, detail) from exc


def _segment(value: str) -> str:
    """A path segment: a user id may hold '/', '?' or '#'."""
    return quote(value, safe="")


def _options(n: int | None, max_tokens: int | None, format: str) -> dict[str, str | int]:
    given = {"n": n, "max_tokens": max_tokens}
    return {"format": format, **{k: v for k, v in given.items() if v is not None}}


def _text(body: bytes) -> str:
    return body.decode()


def user_context(user_id: str, n: int | None, max_tokens: int | None) -> Call[UserContext]:
    path = f"/context/user/{_segment(user_id)}"
    read = msgspec.json.Decoder(UserContext).decode
    return Call("GET", path, read, _options(n, max_tokens, "json"))


def user_prompt(user_id: str, n: int | None, max_tokens: int | None) -> Call[str]:
    path = f"/context/user/{_segment(user_id)}"
    return Call("GET", path, _text, _options(n, max_tokens, "markdown"))


def group_context(group_type: str, key: str, max_tokens: int | None) -> Call[AccountContext]:
    path = f"/context/group/{_segment(group_type)}/{_segment(key)}"
    read = msgspec.json.Decoder(AccountContext).decode
    return Call("GET", path, read, _options(None, max_tokens, "json"))


def group_prompt(group_type: str, key: str, max_tokens: int | None) -> Call[str]:
    path = f"/context/group/{_segment(group_type)}/{_segment(key)}"
    return Call("GET", path, _text, _options(None, max_tokens, "markdown"))


def retrieve(user_id: str, query: str, k: int) -> Call[Retrieval]:
    body = {"user_id": user_id, "query": query, "k": k}
    return Call("POST", "/retrieve", msgspec.json.Decoder(Retrieval).decode, body=body)


def assist(user_id: str, message: str) -> Call[Assisted]:
    body = {"user_id": user_id, "message": message}
    return Call("POST", "/assist", msgspec.json.Decoder(Assisted).decode, body=body)


def export_person(user_id: str) -> Call[PersonExport]:
    path = f"/persons/{_segment(user_id)}/export"
    return Call("GET", path, _json_object)


def delete_person(user_id: str) -> Call[ErasureReport]:
    path = f"/persons/{_segment(user_id)}"
    return Call("DELETE", path, msgspec.json.Decoder(ErasureReport).decode)


def _json_object(body: bytes) -> dict[str, Any]:
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
