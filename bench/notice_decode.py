"""What reading one change notice costs a serving process: every event decoded whole (no
`wants`), against whole only the events of persons its context cache holds (here none, as
for most events of a notice). CPU only, one process: `python -m bench.notice_decode`."""

from __future__ import annotations

import timeit
from datetime import UTC, datetime, timedelta

from usertrail.adapters.notice_wire import Wants, decode_notice, encode_notices
from usertrail.adapters.redis_changes import NOTICE_BYTES_MAX
from usertrail.model.event import Event
from usertrail.services.context_cache import ContextCache

EVENTS = 200
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _event(i: int) -> Event:
    return Event(
        project_id="default",
        uuid=f"0190e2b1-7c4e-7d4a-9f3e-{i:012d}",
        distinct_id=f"user_{i}",
        name="$pageview",
        kind="pageview",
        timestamp=T0 + timedelta(seconds=i),
        url=f"https://app.test/reports/{i}",
        path=f"/reports/{i}",
        label="Viewed Report",
        properties={"$current_url": f"https://app.test/reports/{i}", "plan": "pro", "n": i},
    )


def per_notice_us(notices: list[bytes], wants: Wants | None, number: int = 2000) -> float:
    def read() -> None:
        for notice in notices:
            decode_notice(notice, wants)

    return min(timeit.repeat(read, number=number, repeat=5)) / number * 1e6


def main() -> None:
    notices = list(encode_notices([_event(i) for i in range(EVENTS)], NOTICE_BYTES_MAX))
    size = sum(map(len, notices))
    print(f"{EVENTS} new events in {len(notices)} notice(s), {size:,} bytes")
    print(f"every event whole (wants=None): {per_notice_us(notices, None):.1f} us")
    holds = ContextCache().holds  # a cache holding none of these persons
    held = per_notice_us(notices, holds)
    print(f"whole only the held ones (wants=ContextCache.holds): {held:.1f} us")


if __name__ == "__main__":
    main()
