"""A corpus case: one request, the family that made it, and what the server must answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any, Literal

from tests.corpus.shapes import Base, Wire, dumps, encode

# "4xx": any clear refusal; "400"/"401"/"413": exactly that; "2xx": the payload is in fact
# valid and must be stored; "either": the mutation may or may not leave a valid request.
Expect = Literal["2xx", "4xx", "400", "401", "413", "either"]


@dataclass(frozen=True)
class Draft:
    wire: Wire
    uuids: tuple[str, ...] = ()  # the uuids the request's events were given
    events: int = 0  # how many events the raw log gains if the request is accepted


@dataclass(frozen=True)
class Family:
    """A mutation (named by its function), what every case of it must get, and why."""

    make: Callable[[Random, str], Draft]
    expect: Expect
    count: int
    why: str

    @property
    def name(self) -> str:
        return self.make.__name__


@dataclass(frozen=True)
class Case:
    family: str
    n: int
    expect: Expect
    draft: Draft

    @property
    def label(self) -> str:
        return f"{self.family}#{self.n}"


def meets(expect: Expect, status: int) -> bool:
    if expect == "2xx":
        return 200 <= status < 300
    if expect == "4xx":
        return 400 <= status < 500
    if expect == "either":
        return 200 <= status < 300 or 400 <= status < 500
    return status == int(expect)


def draft(b: Base, text: bytes | None = None, *, transport: str | None = None) -> Draft:
    """The base (or `text`, its mutated JSON) sent the base's way."""
    body = dumps(b.payload) if text is None else text
    wire = encode(body, transport or b.transport, b.path, b.query)
    return Draft(wire=wire, uuids=tuple(b.uuids), events=len(b.events))


def raw_draft(b: Base, body: bytes, headers: dict[str, str], method: str = "POST") -> Draft:
    wire = Wire(method, b.path, body, headers, dict(b.query))
    return Draft(wire=wire, uuids=tuple(b.uuids), events=len(b.events))


def pick(rng: Random, values: list[Any] | tuple[Any, ...]) -> Any:
    return values[rng.randrange(len(values))]
