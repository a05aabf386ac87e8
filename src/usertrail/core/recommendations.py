"""Proactive suggestions for the assistant, each pointing at the pattern that justifies it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from usertrail.model.context import Pattern, Recommendation

Rule = Callable[[Pattern, str | None], str]


def _funnel(p: Pattern, page: str | None) -> str:
    first = p.evidence.get("first_step", "")
    here = f"The user is on {page} right now. " if page and page == first else ""
    if p.evidence.get("funnel") == "plan_selection" or "plan" in p.id:
        return here + "Offer a side-by-side plan comparison and ask what is holding them back."
    return here + f"Offer help finishing {str(p.evidence.get('funnel', '')).replace('_', ' ')}."


def _onboarding(p: Pattern, page: str | None) -> str:
    return (
        f"Offer to walk them through step {p.evidence.get('furthest_step', 0) + 1} of "
        f"{str(p.evidence.get('funnel', 'onboarding')).replace('_', ' ')}."
    )


def _error(p: Pattern, page: str | None) -> str:
    return (
        f"Explain the error they hit {p.evidence.get('count')} times "
        f"({p.evidence.get('error')}) and offer a workaround before they ask."
    )


def _frustration(p: Pattern, page: str | None) -> str:
    where = f" on {p.evidence['page']}" if p.evidence.get("page") else ""
    return (
        f"Ask whether {p.evidence.get('element')}{where} is working "
        "for them; it looks unresponsive to them."
    )


def _slow(p: Pattern, page: str | None) -> str:
    where = p.evidence.get("page") or "the page"
    return f"If they mention {where}, acknowledge that it has been loading slowly for them."


def _adoption(p: Pattern, page: str | None) -> str:
    return f"They rely on {p.evidence.get('feature')}: suggest advanced tips or the next feature."


def _dropped(p: Pattern, page: str | None) -> str:
    return f"Remind them what {p.evidence.get('feature')} can do; they tried it and stopped."


def _returning(p: Pattern, page: str | None) -> str:
    return "Welcome them back and summarise what changed while they were away."


def _declining(p: Pattern, page: str | None) -> str:
    return "Check in: ask whether something is blocking them."


_RULES: tuple[tuple[str, str, Rule], ...] = (
    ("_abandonment", "offer_funnel_help", _funnel),
    ("stalled_onboarding:", "resume_onboarding", _onboarding),
    ("repeated_error:", "explain_error", _error),
    ("rageclicks:", "check_broken_element", _frustration),
    ("deadclicks:", "check_broken_element", _frustration),
    ("slow_page:", "acknowledge_slowness", _slow),
    ("feature_adoption:", "deepen_feature_use", _adoption),
    ("feature_dropped:", "reintroduce_feature", _dropped),
    ("returning_after_absence", "welcome_back", _returning),
    ("declining_activity", "check_in", _declining),
)


def recommend(patterns: Sequence[Pattern], current_page: str | None) -> list[Recommendation]:
    out = []
    for pattern in patterns:
        for marker, rec_id, rule in _RULES:
            if marker in pattern.id:
                out.append(
                    Recommendation(
                        id=rec_id, message=rule(pattern, current_page), because=pattern.id
                    )
                )
                break
    return out
