"""Firing exactly once, from the rules alone: a store made of dicts that reads, settles and
writes as the SQL store does fires each threshold once per person in any order, batching and
duplication. (tests/actions/test_exactly_once.py proves it again on SQLite and PostgreSQL.)"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import T0, make_raw
from usertrail.core.process import Derived, derive
from usertrail.core.settle import Checked, Known, due, firings, latest_per_person, settle
from usertrail.core.triggers import TriggerCheck, TriggerHit
from usertrail.model.config import ProjectConfig
from usertrail.model.identity import MergeEdge
from usertrail.model.person import PersonRef
from usertrail.model.raw import LoggedEvent, RawEvent

HOOK = {"webhook": {"url": "http://127.0.0.1:9/hook"}}
CONFIG = ProjectConfig.model_validate(
    {
        "triggers": {
            "power_user": {"when": {"event": "used"}, "nth": 5, "actions": [HOOK]},
            "every_third": {"when": {"event": "used"}, "every": 3, "actions": [HOOK]},
        }
    }
)


def uses(distinct_id: str, start: float) -> list[RawEvent]:
    return [make_raw("used", distinct_id=distinct_id, at=start + i) for i in range(2)]


def identify(anon: str, at: float) -> RawEvent:
    props = {"$anon_distinct_id": anon}
    return make_raw("$identify", distinct_id="user_42", at=at, properties=props)


# As in test_exactly_once: no id, nor two ids that can be one person before the last merge,
# reaches 5 alone, so `power_user` fires once and `every_third` at 3 and 6, once each.
TRACE = [
    *uses("anon-1", 0),
    identify("anon-1", 10),
    *uses("user_42", 20),
    *uses("anon-2", 30),
    identify("anon-2", 40),
]


@dataclass
class DictStore:
    events: set[tuple[str, str]] = field(default_factory=set)
    edges: dict[str, MergeEdge] = field(default_factory=dict)
    person_key: dict[str, str] = field(default_factory=dict)  # distinct id -> person key
    hits: dict[tuple[str, str], TriggerHit] = field(default_factory=dict)
    fired: list[tuple[str, int, str]] = field(default_factory=list)  # trigger, threshold, anchor

    def apply(self, derived: Derived) -> None:
        known = Known(
            stored=frozenset(self.events),
            edges=tuple(("p1", e) for e in self.edges.values()),
        )
        plan = settle(derived, known)
        self.events |= {(r.event.project_id, r.event.uuid) for r in plan.new}
        for seen in plan.slice.seen:
            self.person_key.setdefault(seen.distinct_id, seen.distinct_id)
        self.edges.update({e.uuid: e for _, e in plan.edges})
        for k in plan.person_keys:
            if k.distinct_id in self.person_key:
                self.person_key[k.distinct_id] = k.key
        self.hits.update({(h.trigger, h.uuid): h for h in plan.slice.trigger_hits})
        pairs = [(c, self.person(c.distinct_id)) for c in plan.slice.trigger_checks]
        checked = [self.checked(c, p) for c, p in latest_per_person(pairs)]
        for item in firings([(d, {}) for d in due(checked)], T0):
            f = item.firing
            self.fired.append((f.trigger, f.threshold, f.anchor_id))

    def person(self, distinct_id: str) -> PersonRef | None:
        key = self.person_key.get(distinct_id)
        if key is None:
            return None
        ids = tuple(sorted(d for d, k in self.person_key.items() if k == key))
        return PersonRef(project_id="p1", key=key, distinct_ids=ids, first_seen=T0, last_seen=T0)

    def checked(self, check: TriggerCheck, person: PersonRef) -> Checked:
        count = sum(
            1
            for (trigger, _), hit in self.hits.items()
            if trigger == check.trigger and hit.distinct_id in person.distinct_ids
        )
        fired = frozenset(
            threshold
            for trigger, threshold, anchor in self.fired
            if trigger == check.trigger and anchor in person.distinct_ids
        )
        return Checked(check=check, person=person, count=count, fired=fired)


def fired_after(events: list[RawEvent], sizes: list[int]) -> Counter[tuple[str, int, str]]:
    store = DictStore()
    logged = [LoggedEvent(seq=i + 1, raw=e) for i, e in enumerate(events)]
    start, batch = 0, iter(sizes)
    while start < len(logged):
        size = next(batch, 3)
        store.apply(derive(logged[start : start + size], lambda _p: CONFIG))
        start += size
    return Counter((t, n, store.person_key[anchor]) for t, n, anchor in store.fired)


def test_one_clean_pass_fires_each_threshold_once_for_the_merged_person() -> None:
    assert fired_after(TRACE, [len(TRACE)]) == Counter(
        {
            ("power_user", 5, "user_42"): 1,
            ("every_third", 3, "user_42"): 1,
            ("every_third", 6, "user_42"): 1,
        }
    )


@given(
    rnd=st.randoms(use_true_random=False),
    sizes=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12),
    dupes=st.integers(min_value=0, max_value=6),
)
def test_any_order_batching_and_duplicates_fire_the_same_once(
    rnd: random.Random, sizes: list[int], dupes: int
) -> None:
    events = TRACE + rnd.choices(TRACE, k=dupes)
    rnd.shuffle(events)
    assert fired_after(events, sizes) == fired_after(TRACE, [len(TRACE)])
