"""The project file's `mask_pii` decides whether the user's and the account's context mask PII."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from tests.factories import make_raw
from usertrail.core.context.account import AccountOptions
from usertrail.core.context.build import ContextOptions
from usertrail.model.account import AccountContext
from usertrail.model.context import UserContext
from usertrail.settings import Settings
from usertrail.wiring import Runtime, build_runtime

EMAIL = "ann@example.com"


@pytest.fixture
async def runtime(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Runtime]:
    """Ann, known by her email, in the account `acme`; the project file is the test's param."""
    path = tmp_path / "project.yaml"
    path.write_text(request.param)
    runtime = build_runtime(Settings(data_dir=tmp_path, demo=False, project_file=path))
    properties = {"$set": {"email": EMAIL}, "$groups": {"company": "acme"}}
    raw = make_raw(distinct_id=EMAIL, project_id=runtime.default_project.id, properties=properties)
    await runtime.event_log.append([raw])
    await runtime.processor.drain()
    yield runtime
    await runtime.close()


async def both_contexts(runtime: Runtime) -> tuple[UserContext, AccountContext]:
    project = runtime.default_project
    user = await runtime.context.for_user(project, EMAIL, ContextOptions())
    account = await runtime.accounts.for_group(
        project, ("company", "acme"), AccountOptions(), "json"
    )
    return user, account


@pytest.mark.parametrize("runtime", ["mask_pii: false\n"], indirect=True)
async def test_mask_pii_false_in_the_project_file_shows_an_email_unmasked(
    runtime: Runtime,
) -> None:
    user, account = await both_contexts(runtime)
    assert user.user.id == EMAIL
    assert user.user.properties["email"] == EMAIL
    assert [m.id for m in account.members] == [EMAIL]


@pytest.mark.parametrize("runtime", ["{}\n"], indirect=True)
async def test_by_default_an_email_is_masked_in_both_contexts(runtime: Runtime) -> None:
    assert EMAIL not in msgspec.json.encode(await both_contexts(runtime)).decode()
