"""A hot cache of built context objects, dropped as soon as the person has new events.

Reads vastly outnumber changes for any one user (a chatbot asks on every message), so a built
context is kept until the processor reports a new event for one of the person's distinct ids,
or until it is `ttl_s` old (patterns such as "declining activity" depend on the clock).

Entries are the encoded answers (bytes), not object graphs: a hit is served without encoding
again, and ten thousand entries add nothing for the garbage collector to walk (as structs they
made full collections, and so the tail latency of every request, grow with the cache).
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import msgspec

from usertrail.model.context import UserContext
from usertrail.model.event import Changed, Event

Key = tuple[str, str, Hashable]  # (project id, requested user id, options)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(UserContext).decode


class Rendered(NamedTuple):
    """One built context, as the read API sends it."""

    json: bytes  # the context object (with its prompt block only when it was asked for)
    markdown: bytes  # its prompt block, UTF-8
    # The person's distinct ids as stored, never sent: the object masks an id that is an email
    # or a phone number, but the cache and live streams must match the events' real ids.
    ids: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, ctx: UserContext, include_prompt: bool = False, ids: tuple[str, ...] | None = None
    ) -> Rendered:
        prompt = ctx.prompt or ""
        sent = ctx if include_prompt else msgspec.structs.replace(ctx, prompt=None)
        return cls(_encode(sent), prompt.encode(), ctx.user.distinct_ids if ids is None else ids)

    def context(self) -> UserContext:
        """The object, its prompt block always filled in (MCP and retrieval read it)."""
        return msgspec.structs.replace(_decode(self.json), prompt=self.markdown.decode())

    def body(self, format: str) -> bytes:
        """The answer in `format`: "markdown", else "json"."""
        return self.markdown if format == "markdown" else self.json


class ContextCache:
    def __init__(self, size: int = 10_000, ttl_s: float = 60.0) -> None:
        self._size = size
        self._ttl_s = ttl_s
        self._entries: OrderedDict[Key, tuple[Rendered, float]] = OrderedDict()
        self._by_id: dict[tuple[str, str], set[Key]] = defaultdict(set)
        self._generation = 0  # how many change notices so far

    def generation(self) -> int:
        """Read it before building a context, and hand it to `put` (see there)."""
        return self._generation

    def get(self, key: Key) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > self._ttl_s:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(
        self,
        key: Key,
        ctx: UserContext,
        include_prompt: bool = False,
        ids: tuple[str, ...] | None = None,
        built_at: int | None = None,
    ) -> Rendered:
        """Keep `ctx`, unless a change notice came while it was built (`built_at`: the
        generation read before): its reads may predate the change the notice dropped, and
        kept, it would be served stale until the TTL."""
        rendered = Rendered.of(ctx, include_prompt, ids)
        if self._size <= 0 or (built_at is not None and built_at != self._generation):
            return rendered
        self._entries[key] = (rendered, time.monotonic())
        self._entries.move_to_end(key)
        for distinct_id in rendered.ids:
            self._by_id[(key[0], distinct_id)].add(key)
        for account in ctx.accounts:  # `$groupidentify` changes them under another id
            self._by_id[(key[0], _group_id(account.type, account.key))].add(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return rendered

    def invalidate(self, events: Sequence[Changed]) -> None:
        """Processor listener: drop every context that includes a changed distinct id, or an
        account a `$groupidentify` changed. (A change notice from another process names only
        the id: there an account's new properties wait for the TTL.)"""
        self._generation += 1
        for event in events:
            ids = [event.distinct_id]
            if isinstance(event, Event) and event.name == "$groupidentify":
                ids += [_group_id(t, k) for t, k in event.groups]
            for changed in ids:
                for key in self._by_id.pop((event.project_id, changed), ()):
                    self._entries.pop(key, None)


def _group_id(group_type: str, group_key: str) -> str:
    """A cache index entry for an account; no distinct id holds a NUL."""
    return f"\x00group\x00{group_type}\x00{group_key}"
