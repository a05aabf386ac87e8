"""core.envelope.client_ip: the ip a raw event keeps is an address, short and ASCII, or None
(the backends' agreement on it: tests/contract/test_client_ip.py)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from usertrail.core.capture import split_request
from usertrail.core.envelope import client_ip, to_raw_events

NOW = datetime(2026, 12, 6, tzinfo=UTC)
BATCH = {"api_key": "phc_x", "batch": [{"event": "ip", "distinct_id": "u1"}]}
zones = st.builds(lambda a, z: f"{a}%{z}", st.ip_addresses(v=6).map(str), st.text(min_size=1))


@given(st.text() | st.ip_addresses().map(str) | zones)
def test_a_kept_ip_is_the_address_sent_without_its_zone(text: str) -> None:
    [raw] = to_raw_events(
        split_request(BATCH, query={}), project_id="p", now=NOW, source="capture", ip=text
    )
    assert raw.ip == client_ip(text)
    if raw.ip is not None:
        assert raw.ip.isascii()
        assert len(raw.ip) <= 45
        assert ipaddress.ip_address(raw.ip) == ipaddress.ip_address(text.partition("%")[0])


def test_no_ip_is_none() -> None:
    assert client_ip(None) is None
    assert client_ip("") is None
