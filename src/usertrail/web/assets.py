"""posthog-js's own files, served the way PostHog serves them to its SDK."""

from __future__ import annotations

import re

from starlette.staticfiles import StaticFiles
from starlette.types import Scope

_VERSION_PREFIX = re.compile(r"^/?\d+\.\d+\.\d+/")


class VersionedStaticFiles(StaticFiles):
    """posthog-js asks for `/static/<version>/<extension>.js` first; we serve the installed one."""

    def get_path(self, scope: Scope) -> str:
        return _VERSION_PREFIX.sub("", super().get_path(scope), count=1)
