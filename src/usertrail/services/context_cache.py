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

from usertrail.core.context.advance import advance
from usertrail.core.context.build import ContextInputs
from usertrail.model.context import UserContext
from usertrail.model.event import EVERYONE, Changed, Event

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


class _Entry(NamedTuple):
    rendered: Rendered | None  # None once a new event advanced the inputs: built at next read
    inputs: ContextInputs | None  # what the read loaded, kept up to date by advance()
    limit: int  # how many recent events the inputs were loaded with
    at: float  # when loaded: the TTL runs from the load, not from the last advance


class ContextCache:
    # Entries that also keep their inputs (to advance them): the most recently loaded or
    # advanced ones. Inputs are objects, not bytes: about 230 KiB for 200 loaded events
    # (measured with tracemalloc), so ~60 MiB at most here, not gigabytes for 10,000 entries.
    INPUTS_KEPT = 256

    def __init__(self, size: int = 10_000, ttl_s: float = 60.0) -> None:
        self._size = size
        self._ttl_s = ttl_s
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._kept: OrderedDict[Key, None] = OrderedDict()  # entries with inputs, LRU
        self._by_id: dict[tuple[str, str], set[Key]] = defaultdict(set)
        self._changes = _Changes()
        self._bypassed = False

    def bypass(self, on: bool) -> None:
        """Keep nothing while `on`: this process hears of no change (`serve`'s processor
        stands by while another one stores, and tells only its own servers)."""
        self._bypassed = on
        if on:
            self.invalidate([EVERYONE])

    def holds(self, project_id: str, distinct_id: str) -> bool:
        """Whether a cached context may include this distinct id: only then can a new event
        of it advance one (`invalidate` needs the event whole, not just its id)."""
        return (project_id, distinct_id) in self._by_id

    def get(self, key: Key) -> Rendered | None:
        entry = self._live(key)
        return entry.rendered if entry is not None else None

    def inputs(self, key: Key) -> ContextInputs | None:
        """The inputs of an entry a new event advanced (its context is to be built again)."""
        entry = self._live(key)
        return entry.inputs if entry is not None and entry.rendered is None else None

    def generation(self) -> int:
        """Taken before a load: `put` keeps nothing loaded before a change of its person."""
        return self._changes.generation

    def put(
        self,
        key: Key,
        ctx: UserContext,
        include_prompt: bool = False,
        ids: tuple[str, ...] | None = None,
        *,
        loaded: tuple[ContextInputs, int, int] | None = None,
    ) -> Rendered:
        """`loaded`: the inputs, the events limit they were loaded with, and the generation
        taken before the load; an entry without them is only dropped on a change."""
        rendered = Rendered.of(ctx, include_prompt, ids)
        if self._size <= 0 or self._bypassed:
            return rendered
        old = self._entries.get(key)
        if loaded is not None:
            inputs, limit, since = loaded
            if self._changes.since(since, key[0], rendered.ids):
                return rendered  # a change raced the load: it may be missing from it
            entry = _Entry(rendered, inputs, limit, time.monotonic())
        elif old is not None and old.inputs is not None:  # built from advanced inputs
            entry = old._replace(rendered=rendered)
        else:
            entry = _Entry(rendered, None, 0, time.monotonic())
        self._entries[key] = entry
        self._entries.move_to_end(key)
        if entry.inputs is not None:
            self._keep(key)
        for distinct_id in rendered.ids:
            self._by_id[(key[0], distinct_id)].add(key)
        for account in ctx.accounts:  # `$groupidentify` changes them under another id
            self._by_id[(key[0], _group_id(account.type, account.key))].add(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return rendered

    def invalidate(self, events: Sequence[Changed]) -> None:
        """Processor listener: every context that includes a changed distinct id, or an
        account a `$groupidentify` changed, is dropped; or, for a plain new event of a cached
        person, its inputs advance and the context is built again at the next read, without
        the database. A notice without the event (a merge, a person update, an event too large
        for a notice) drops, and EVERYONE drops them all."""
        if EVERYONE in events:
            self._changes.saw_everyone()
            self._entries.clear()
            self._kept.clear()
            self._by_id.clear()
            return
        self._changes.saw(events)
        if not self._by_id:
            return  # nothing cached: nothing to drop or advance
        noticed = {(c.project_id, c.distinct_id) for c in events if not isinstance(c, Event)}
        for event in events:
            ids = [event.distinct_id]
            if isinstance(event, Event) and event.name == "$groupidentify":
                ids += [_group_id(t, k) for t, k in event.groups]
            for changed in ids:
                slot = (event.project_id, changed)
                if slot not in self._by_id:
                    continue  # no cached context includes it (most events of a notice)
                keys = self._by_id.pop(slot)
                plain = isinstance(event, Event) and slot not in noticed
                if kept := self._advanced(keys, event) if plain else set():
                    self._by_id[slot] = kept
                for key in keys - kept:
                    self._entries.pop(key, None)

    def _advanced(self, keys: set[Key], event: Changed) -> set[Key]:
        """The entries `event` advanced (the others are to be dropped)."""
        return {k for k in keys if isinstance(event, Event) and self._advance(k, event)}

    def _advance(self, key: Key, event: Event) -> bool:
        entry = self._live(key)
        if entry is None or entry.inputs is None:
            return False
        moved = advance(entry.inputs, event, entry.limit)
        if moved is None:
            return False
        if moved is not entry.inputs:
            self._entries[key] = entry._replace(rendered=None, inputs=moved)
        self._keep(key)
        return True

    def _keep(self, key: Key) -> None:
        """`key` keeps its inputs; the least recent beyond INPUTS_KEPT let theirs go (an entry
        waiting to be built from them goes with them)."""
        self._kept[key] = None
        self._kept.move_to_end(key)
        while len(self._kept) > self.INPUTS_KEPT:
            old, _ = self._kept.popitem(last=False)
            if (entry := self._entries.get(old)) is None:
                continue
            if entry.rendered is None:
                del self._entries[old]
            else:
                self._entries[old] = entry._replace(inputs=None)

    def _live(self, key: Key) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.at > self._ttl_s:
            return None
        self._entries.move_to_end(key)
        return entry


class _Changes:
    """Which ids changed since a generation: the latest generation per id, for the most
    recent RECENT ids (older ones count as changed at the newest generation forgotten)."""

    RECENT = 100_000

    def __init__(self) -> None:
        self.generation = 0
        self._at: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._forgotten = 0

    def saw(self, changes: Sequence[Changed]) -> None:
        self.generation += 1
        at = self._at
        for change in changes:
            key = (change.project_id, change.distinct_id)
            at[key] = self.generation
            at.move_to_end(key)
        while len(self._at) > self.RECENT:
            self._forgotten = self._at.popitem(last=False)[1]

    def saw_everyone(self) -> None:
        """Any id may have changed: nothing loaded before now is kept."""
        self.generation += 1
        self._forgotten = self.generation

    def since(self, generation: int, project_id: str, ids: Sequence[str]) -> bool:
        if generation < self._forgotten:
            return True
        return any(self._at.get((project_id, i), 0) > generation for i in ids)


def _group_id(group_type: str, group_key: str) -> str:
    """A cache index entry for an account; no distinct id holds a NUL."""
    return f"\x00group\x00{group_type}\x00{group_key}"
