"""services.batches: every job gets its own outcome, whatever batch it ran in."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from usertrail.services.batches import Batches, Outcome


def upper(jobs: Sequence[str]) -> list[Outcome[str]]:
    if "boom" in jobs:
        raise RuntimeError("the batch failed")
    return [ValueError(j) if j.startswith("bad") else j.upper() for j in jobs]


async def test_every_job_gets_its_own_outcome_from_any_thread_and_batch() -> None:
    batches = Batches(upper, threads=2, most=4, name="test-batches")
    jobs = [f"bad{i}" if i % 7 == 0 else f"job{i}" for i in range(100)]
    outcomes = await asyncio.gather(*(batches.submit(j) for j in jobs), return_exceptions=True)
    batches.close()
    for job, outcome in zip(jobs, outcomes, strict=True):
        if job.startswith("bad"):
            assert isinstance(outcome, ValueError)
            assert outcome.args == (job,)
        else:
            assert outcome == job.upper()


async def test_a_batch_that_raises_fails_its_jobs_and_the_next_one_runs() -> None:
    batches = Batches(upper, threads=1, most=4, name="test-batches")
    with pytest.raises(RuntimeError, match="the batch failed"):
        await batches.submit("boom")
    assert await batches.submit("next") == "NEXT"
    batches.close()
