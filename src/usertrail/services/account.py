"""Account context: load one group (PostHog's accounts) and build its context object."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import msgspec

from usertrail.core.context.account import AccountOptions, build_account
from usertrail.core.context.account_render import fit_account
from usertrail.errors import NotFound
from usertrail.model.account import AccountContext
from usertrail.model.config import ProjectConfig
from usertrail.model.group import GroupData
from usertrail.model.project import Project

MEMBERS_LOADED = 500  # members counted as active; the context shows the first few
# A member's events outside the account are filtered out after loading: load twice `n`.
# (Loading 300 per member made a 50-member account's context take 12 ms; decoding dominated.)
MIN_EVENTS_LOADED = 40


class GroupReader(Protocol):
    async def group_data(
        self, project_id: str, group: tuple[str, str], members: int, limit: int
    ) -> GroupData | None: ...


class AccountService:
    def __init__(
        self,
        store: GroupReader,
        config_for: Callable[[str], ProjectConfig],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._config_for = config_for
        self._clock = clock

    async def for_group(
        self, project: Project, group: tuple[str, str], options: AccountOptions, format: str
    ) -> AccountContext:
        """The project comes from the key, never from the request: no cross-tenant reads.
        `format` is what the budget counts: the Markdown block, or the JSON object."""
        limit = max(2 * options.n, MIN_EVENTS_LOADED)
        data = await self._store.group_data(project.id, group, MEMBERS_LOADED, limit)
        if data is None:
            raise NotFound(f"no {group[0]!r} group {group[1]!r} in this project")
        config = self._config_for(project.id)
        options = msgspec.structs.replace(options, mask_pii=config.mask_pii)
        built = build_account(data, config, options, self._clock())
        return fit_account(built, options.max_tokens, format)
