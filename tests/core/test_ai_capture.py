"""core.ai_capture: PostHog's `/i/v0/ai` multipart body, as posthog-python's spec builds it."""

from __future__ import annotations

import json

import pytest

from usertrail.core.ai_capture import ai_event
from usertrail.errors import BadPayload

BOUNDARY = "----WebKitFormBoundary0123456789abcdef"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(parts: dict[str, object]) -> bytes:
    """The body PostHog's `/i/v0/ai` spec describes: one JSON part per name."""
    out = b""
    for name, value in parts.items():
        out += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                "Content-Type: application/json\r\n\r\n"
            ).encode()
            + json.dumps(value).encode()
            + b"\r\n"
        )
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_blob_parts_are_put_back_into_the_event_properties() -> None:
    body = multipart(
        {
            "event": {
                "uuid": "0190e2b1-7c4e-7d4a-9f3e-1a2b3c4d5e6f",
                "event": "$ai_generation",
                "distinct_id": "josé",
                "timestamp": "2026-12-06T10:00:00Z",
            },
            "event.properties": {"$ai_model": "gpt-4o-mini", "$ai_is_error": True},
            "event.properties.$ai_input": [{"role": "user", "content": "Résumé ✓"}],
        }
    )
    event = ai_event(body, CONTENT_TYPE)
    assert event["event"] == "$ai_generation"
    assert event["distinct_id"] == "josé"
    assert event["properties"]["$ai_model"] == "gpt-4o-mini"
    assert event["properties"]["$ai_input"] == [{"role": "user", "content": "Résumé ✓"}]


@pytest.mark.parametrize(
    ("parts", "content_type", "reason"),
    [
        ({"event": {"event": "$pageview", "distinct_id": "u"}}, CONTENT_TYPE, r"only \$ai_"),
        ({"event.properties": {}}, CONTENT_TYPE, "no 'event' part"),
        ({"event": [1, 2]}, CONTENT_TYPE, "must be a JSON object"),
        ({"event": {"event": "$ai_span", "properties": ["ü/"]}}, CONTENT_TYPE, "JSON object"),
        ({"event": {"event": "$ai_span", "properties": "\u0000"}}, CONTENT_TYPE, "JSON object"),
        ({"event": {"event": "$ai_span"}}, "application/json", "multipart/form-data"),
        ({"event": {"event": "$ai_span"}}, "multipart/form-data; boundary=other", "no parts"),
    ],
)
def test_malformed_bodies_are_refused_with_the_reason(
    parts: dict[str, object], content_type: str, reason: str
) -> None:
    with pytest.raises(BadPayload, match=reason):
        ai_event(multipart(parts), content_type)
