"""An account's context from its members' data: who is active, usage, patterns, its events."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import T0, make_event, make_raw
from usertrail.core.aggregates import counter_keys, merge_counters
from usertrail.core.context.account import AccountOptions, build_account
from usertrail.core.context.account_render import account_tokens, fit_account, render_account
from usertrail.model.account import AccountContext
from usertrail.model.config import ProjectConfig
from usertrail.model.counter import Counter
from usertrail.model.group import GroupData, GroupMember, GroupState, GroupUpdate

CONFIG = ProjectConfig()
ACME = {"$groups": {"company": "acme"}}
NOW = T0 + timedelta(days=30)


def account(n_members: int = 6) -> AccountContext:
    events = [
        make_event(
            make_raw(
                "report_exported" if i % 2 else "$pageview",
                distinct_id=f"user_{i % n_members}",
                at=i * 60,
                properties={**ACME, "$current_url": "https://a.test/reports/7"},
            )
        )
        for i in range(40)
    ] + [make_event(make_raw("elsewhere", distinct_id="user_0", at=9999))]  # no $groups
    rows = [
        (k, Counter(count=1, first=e.timestamp, last=e.timestamp))
        for e in events
        for k in counter_keys(e, CONFIG)
    ]
    members = tuple(
        GroupMember(
            key=f"user_{i}",
            distinct_ids=(f"user_{i}",),
            first_seen=T0,
            last_seen=NOW - timedelta(days=i * 3),
        )
        for i in range(n_members)
    )
    update = GroupUpdate(
        uuid="g1",
        timestamp=T0,
        group_type="company",
        group_key="acme",
        distinct_id="$company_acme",
        set={"plan": "enterprise", "seats": 40, "owner": "ceo@acme.test"},
    )
    data = GroupData(
        project_id="p1",
        group=GroupState(group_type="company", group_key="acme", updates=(update,)),
        members=members,
        member_count=n_members,
        events=tuple(events),
        counters=tuple(merge_counters(rows).items()),
    )
    return build_account(data, CONFIG, AccountOptions(n=50), NOW)


def test_an_account_says_who_is_active_and_what_it_does() -> None:
    ctx = account()
    assert (ctx.member_count, ctx.active_members) == (6, 3)  # last active within 7 days
    assert ctx.account.properties == {"owner": "[email]", "plan": "enterprise", "seats": 40}
    assert [(u.kind, u.name, u.count) for u in ctx.usage] == [("page", "Reports", 20)]
    assert len(ctx.recent_events) == 40  # the member's event outside the account is not its


def test_an_account_block_over_budget_drops_events_first_and_keeps_its_header() -> None:
    ctx = account()
    full = account_tokens(ctx, "markdown")
    fitted = fit_account(ctx, full // 2, "markdown")
    assert account_tokens(fitted, "markdown") <= full // 2
    assert len(fitted.recent_events) < len(ctx.recent_events)
    assert fitted.members == ctx.members
    tiny = fit_account(ctx, 10, "markdown")
    assert (tiny.members, tiny.usage, tiny.patterns, tiny.recent_events) == ((), (), (), ())
    assert "**Account** `acme` (`company`)" in render_account(tiny)
    assert tiny.truncated
