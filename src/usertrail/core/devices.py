"""Device, browser and OS: from PostHog's properties, else parsed from the user agent."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ua_parser import parse

from usertrail.model.event import Device

_UA_KEYS = ("$raw_user_agent", "$useragent", "$user_agent")


def device_from_properties(props: dict[str, Any]) -> Device | None:
    if isinstance(props.get("$browser"), str) or isinstance(props.get("$os"), str):
        return Device(
            device_type=_s(props.get("$device_type")),
            browser=_s(props.get("$browser")),
            browser_version=_s(props.get("$browser_version")),
            os=_s(props.get("$os")),
            os_version=_s(props.get("$os_version")),
        )
    agent = next((v for k in _UA_KEYS if isinstance(v := props.get(k), str) and v), None)
    return device_from_user_agent(agent[:1000]) if agent else None


@lru_cache(maxsize=4096)
def device_from_user_agent(agent: str) -> Device | None:
    result = parse(agent)
    browser = result.user_agent
    os = result.os
    device = result.device
    if browser is None and os is None:
        return None
    return Device(
        device_type=_device_type(device.family if device else None, os.family if os else None),
        browser=browser.family if browser else None,
        browser_version=_version(browser.major, browser.minor) if browser else None,
        os=os.family if os else None,
        os_version=_version(os.major, os.minor) if os else None,
    )


def _device_type(family: str | None, os: str | None) -> str:
    lowered = (family or "").lower()
    if "ipad" in lowered or "tablet" in lowered:
        return "Tablet"
    return "Mobile" if os in ("Android", "iOS") else "Desktop"


def _version(major: str | None, minor: str | None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def _s(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
        return str(value)[:100]
    return None
