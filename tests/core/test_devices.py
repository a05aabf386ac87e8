from __future__ import annotations

import pytest

from usertrail.core.devices import device_from_properties
from usertrail.model.event import Device

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def test_posthog_js_properties_are_used_as_sent() -> None:
    props = {
        "$browser": "Chrome",
        "$browser_version": 120,
        "$os": "Mac OS X",
        "$os_version": "10.15.7",
        "$device_type": "Desktop",
        "$raw_user_agent": IPHONE,
    }
    assert device_from_properties(props) == Device(
        device_type="Desktop",
        browser="Chrome",
        browser_version="120",
        os="Mac OS X",
        os_version="10.15.7",
    )


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            IPHONE,
            Device(
                device_type="Mobile",
                browser="Mobile Safari",
                browser_version="17.0",
                os="iOS",
                os_version="17.0",
            ),
        ),
        (
            IPAD,
            Device(
                device_type="Tablet",
                browser="Mobile Safari",
                browser_version="16.6",
                os="iOS",
                os_version="16.6",
            ),
        ),
        (
            ANDROID_TABLET,
            Device(
                device_type="Tablet",
                browser="Chrome",
                browser_version="120.0",
                os="Android",
                os_version="13",
            ),
        ),
        (
            MAC_CHROME,
            Device(
                device_type="Desktop",
                browser="Chrome",
                browser_version="120.0",
                os="Mac OS X",
                os_version="10.15",
            ),
        ),
    ],
    ids=["iphone", "ipad", "android-tablet", "mac-chrome"],
)
def test_server_side_events_get_a_device_from_the_user_agent(agent: str, expected: Device) -> None:
    assert device_from_properties({"$raw_user_agent": agent}) == expected


def test_the_older_useragent_property_is_read_too() -> None:
    device = device_from_properties({"$useragent": IPHONE})
    assert device is not None
    assert device.os == "iOS"


@pytest.mark.parametrize(
    "props",
    [{}, {"$raw_user_agent": "posthog-python/3.0"}, {"$browser": "", "$raw_user_agent": ""}],
    ids=["nothing", "sdk-agent", "empty"],
)
def test_no_device_when_nothing_names_one(props: dict[str, object]) -> None:
    assert device_from_properties(props) is None


def test_device_strings_are_cleaned_and_bounded() -> None:
    device = device_from_properties({"$browser": "Chrome\u202e\u200b" + "x" * 500})
    assert device is not None
    assert device.browser is not None
    assert device.browser.startswith("Chromex")
    assert len(device.browser) <= 100


def test_values_that_are_no_names_are_skipped_the_same_way_every_time() -> None:
    """Devices are cached by their five values: a list (unhashable) must still work, and
    True, which equals 1 as a key, must not come back as the name "1" (or the reverse)."""
    odd = {"$browser": ["Chrome"], "$os": "Linux", "$os_version": {"major": 6}}
    assert device_from_properties(odd) == Device(os="Linux")
    assert device_from_properties({"$browser": True, "$os": "Linux"}) == Device(os="Linux")
    assert device_from_properties({"$browser": 1, "$os": "Linux"}) == Device(
        browser="1", os="Linux"
    )
    assert device_from_properties({"$browser": True, "$os": "Linux"}) == Device(os="Linux")
