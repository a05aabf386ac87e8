"""PostHog's LLM-analytics capture, `/i/v0/ai`: one `$ai_*` event as multipart/form-data.

The parts, as posthog-python builds them and PostHog's capture reads them: `event` (JSON with
uuid, event, distinct_id and timestamp), `event.properties` (JSON), and one part per large
property, `event.properties.<name>` (JSON), such as `$ai_input`. The project token comes in
`Authorization: Bearer`.
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from usertrail.core.decode import parse_json
from usertrail.errors import BadPayload

_PROPERTY_PREFIX = "event.properties."


def ai_event(body: bytes, content_type: str) -> dict[str, Any]:
    """The event the parts describe, its large properties put back in `properties`."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadPayload("/i/v0/ai takes multipart/form-data")
    parts = _parts(body, content_type)
    if "event" not in parts:
        raise BadPayload("no 'event' part")
    event = parse_json(parts.pop("event"))
    if not isinstance(event, dict):
        raise BadPayload("the 'event' part must be a JSON object")
    props = parse_json(parts.pop("event.properties")) if "event.properties" in parts else {}
    if not isinstance(props, dict):
        raise BadPayload("the 'event.properties' part must be a JSON object")
    for part, data in parts.items():
        if part.startswith(_PROPERTY_PREFIX):
            props[part.removeprefix(_PROPERTY_PREFIX)] = parse_json(data)
    name = event.get("event")
    if not isinstance(name, str) or not name.startswith("$ai_"):
        raise BadPayload("/i/v0/ai takes only $ai_* events")
    own = event.get("properties")
    if own is not None and not isinstance(own, dict):  # as capture refuses one
        raise BadPayload("the event's 'properties' must be a JSON object")
    return {**event, "properties": {**props, **(own or {})}}


def _parts(body: bytes, content_type: str) -> dict[str, bytes]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadPayload("multipart body has no parts (boundary missing or wrong)")
    found: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            found[name] = _payload(part)
    return found


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
