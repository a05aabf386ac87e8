"""core.context.account: an account's properties, usage and a user's accounts, made safe."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0
from usertrail.core.context.account import (
    MAX_PROPERTIES,
    MAX_USAGE,
    account_of,
    person_accounts,
    safe_properties,
    usage,
)
from usertrail.model.counter import Counter
from usertrail.model.group import GroupState, GroupUpdate


def group(key: str = "acme", **props: object) -> GroupState:
    update = GroupUpdate(
        uuid=f"g-{key}",
        timestamp=T0,
        group_type="company",
        group_key=key,
        distinct_id=f"$company_{key}",
        set=dict(props),
    )
    return GroupState(group_type="company", group_key=key, updates=(update,))


def test_properties_keep_scalars_and_drop_dollar_keys_unknowns_and_structures() -> None:
    values = {"plan": "pro", "seats": 40, "trial": False, "$lib": "web", "gone": None, "t": [1]}
    assert safe_properties(values, mask_pii=True) == {"plan": "pro", "seats": 40, "trial": False}


def test_property_values_are_masked_and_keys_are_bounded() -> None:
    kept = safe_properties({"owner": "ceo@acme.test", "k" * 100: "v"}, mask_pii=True)
    assert kept["owner"] == "[email]"
    assert all(len(key) <= 61 for key in kept)
    assert safe_properties({"owner": "ceo@acme.test"}, mask_pii=False) == {"owner": "ceo@acme.test"}


def test_at_most_thirty_properties_are_kept() -> None:
    kept = safe_properties({f"p{i:02}": i for i in range(50)}, mask_pii=True)
    assert list(kept) == [f"p{i:02}" for i in range(MAX_PROPERTIES)]


def test_usage_is_features_and_pages_most_used_first() -> None:
    def seen(n: int) -> Counter:
        return Counter(count=n, first=T0, last=T0 + timedelta(hours=n))

    counters = {"page:Reports": seen(5), "feature:Export": seen(9), "kind:click": seen(50)}
    found = [(u.kind, u.name, u.count) for u in usage(counters)]
    assert found == [("feature", "Export", 9), ("page", "Reports", 5)]
    many = {f"page:P{i}": seen(i + 1) for i in range(20)}
    assert len(usage(many)) == MAX_USAGE


def test_an_accounts_key_and_properties_are_masked_its_type_is_not() -> None:
    account = account_of(group("ann@example.com", owner="ceo@acme.test"))
    assert (account.type, account.key) == ("company", "[email]")
    assert account.properties == {"owner": "[email]"}
    plain = account_of(group("ann@example.com"), mask_pii=False)
    assert plain.key == "ann@example.com"


def test_a_users_accounts_keep_their_order() -> None:
    accounts = person_accounts([group("globex"), group("acme")])
    assert [a.key for a in accounts] == ["globex", "acme"]
