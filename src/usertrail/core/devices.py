"""Device, browser and OS: from PostHog's properties, else parsed from the user agent.

posthog-js sends `$browser`, `$browser_version`, `$os`, `$os_version` and `$device_type`; server
SDKs send none of them, but an app may forward the visitor's user agent (`$raw_user_agent`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ua_parser import parse

from usertrail.core.text import clean_text
from usertrail.model.event import Device

_UA_KEYS = ("$raw_user_agent", "$useragent", "$user_agent")
MAX_USER_AGENT_CHARS = 1000
_MOBILE_OS = frozenset(("Android", "iOS"))


def device_from_properties(props: Mapping[str, Any]) -> Device | None:
    given = (  # what posthog-js sends, spelled out: this runs for every event
        props.get("$device_type"),
        props.get("$browser"),
        props.get("$browser_version"),
        props.get("$os"),
        props.get("$os_version"),
    )
    try:
        device = _device_of(*given)
    except TypeError:  # a list or an object where a name belongs: unhashable, never a name
        device = _device_of.__wrapped__(*given)
    if device is not None:
        return device
    agent = next((v for k in _UA_KEYS if isinstance(v := props.get(k), str) and v), None)
    return device_from_user_agent(agent[:MAX_USER_AGENT_CHARS]) if agent else None


# One visitor's events all carry the same five values: clean them once (typed: True and 1 are
# equal as keys, but only 1 is a name).
@lru_cache(maxsize=4096, typed=True)
def _device_of(
    device_type: Any, browser: Any, browser_version: Any, os: Any, os_version: Any
) -> Device | None:
    """The device posthog-js described, if it named a browser or an OS."""
    if not (_s(browser) or _s(os)):
        return None
    return Device(
        device_type=_s(device_type),
        browser=_s(browser),
        browser_version=_s(browser_version),
        os=_s(os),
        os_version=_s(os_version),
    )


@lru_cache(maxsize=4096)
def device_from_user_agent(agent: str) -> Device | None:
    """None when the agent names neither a browser nor an OS (`posthog-python/3.0`)."""
    result = parse(agent)
    browser, os = result.user_agent, result.os
    if browser is None and os is None:
        return None
    return Device(
        device_type=_device_type(agent, result.device, os.family if os else None),
        browser=_s(browser.family) if browser else None,
        browser_version=_version(browser.major, browser.minor) if browser else None,
        os=_s(os.family) if os else None,
        os_version=_version(os.major, os.minor) if os else None,
    )


def _device_type(agent: str, device: Any, os: str | None) -> str | None:
    family = f"{device.family} {device.brand}".lower() if device else ""
    if "spider" in family:  # a crawler: no device to speak of
        return None
    if "ipad" in family or "tablet" in family:
        return "Tablet"
    if os == "Android" and "Mobile" not in agent:  # Android's convention for tablets
        return "Tablet"
    if os in _MOBILE_OS:
        return "Mobile"
    return "Desktop" if os else None


def _version(major: str | None, minor: str | None) -> str | None:
    if not major:
        return None
    return _s(f"{major}.{minor}" if minor else major)


def _s(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
        return clean_text(str(value), 100) or None
    return None
