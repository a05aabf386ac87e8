"""What posthog-js fetches before it autocaptures: remote config and feature flags.

Current posthog-js only turns autocapture on after the remote config says
`autocapture_opt_out: false`; `elementsChainAsString` makes it send `$elements_chain`, and
`supportedCompression` lets it gzip. Without a PostHog to proxy to (web.proxy), usertrail
has no feature flags: flags are empty.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.responses import Response

from usertrail.web.responses import json_response


def remote_config(token: str) -> dict[str, Any]:
    return {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": False,
        "autocapture_opt_out": False,
        "autocaptureExceptions": True,
        "captureDeadClicks": True,
        "capturePerformance": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": False,
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
    }


def config_answer(token: str) -> Response:
    return json_response(remote_config(token))


def config_js_answer(token: str) -> Response:
    payload = orjson.dumps({"config": remote_config(token), "siteApps": []}).decode()
    key = orjson.dumps(token).decode()
    script = (
        "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"window._POSTHOG_REMOTE_CONFIG[{key}]={payload};}})();"
    )
    return Response(script, media_type="application/javascript")


def flags_answer(token: str) -> Response:
    """`POST /flags/?v=2` (and the older `/decide/`) without a PostHog: no flags, plus the
    remote config."""
    return json_response(
        {
            **remote_config(token),
            "flags": {},
            "featureFlags": {},
            "featureFlagPayloads": {},
            "errorsWhileComputingFlags": False,
            "quotaLimited": [],
            "requestId": str(uuid.uuid4()),
            "config": {"enable_collect_everything": True},
        }
    )
