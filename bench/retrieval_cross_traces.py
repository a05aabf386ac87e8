"""Clear questions against traces that point elsewhere: how often does behaviour lower one?

Every unambiguous question of the shipped case files is asked again after the traces of
ambiguous cases about other articles (a fixed sample of them, the same on every run), and its
article's rank with that behaviour is compared with its rank from the question alone. This
tests the kind "a clear question with a misleading trace" on many more pairs than the files
hold, without anyone writing a case. Pure: no server, no clock.

Run: `python -m bench.retrieval_cross_traces [--per-question 12]`.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.model.config import ProjectConfig
from usertrail.project_file import load_project_file
from usertrail.retrieval.evaluation.cases import EvalCase, trace_events
from usertrail.retrieval.evaluation.harness import DEFAULT_CASES, load_cases
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.fusion import per_article
from usertrail.retrieval.index import HelpIndex, help_folder, load_help_index
from usertrail.retrieval.model import Signal
from usertrail.retrieval.retriever import retrieve
from usertrail.retrieval.signals import behaviour_signals

SEED = 7
DEPTH = 200
USER = "user_1"


def rank(index: HelpIndex, case: EvalCase, signals: Sequence[Signal]) -> int:
    ranking = per_article(retrieve(index, case.question, signals, k=DEPTH).hits)
    return ranking.index(case.expected) + 1 if case.expected in ranking else DEPTH + 1


def trace_signals(case: EvalCase, config: ProjectConfig) -> tuple[Signal, ...]:
    return behaviour_signals(context_of(trace_events(case, USER), config, USER))


def lowered(
    index: HelpIndex, config: ProjectConfig, cases: Sequence[EvalCase], per_question: int
) -> tuple[int, list[tuple[str, str, int, int]]]:
    """(pairs tried, the pairs whose article ranks lower with the trace than without)."""
    traces = [c for c in cases if c.ambiguous]
    signals = {
        t.id: behaviour_signals(context_of(trace_events(t, USER), config, USER)) for t in traces
    }
    pick = random.Random(SEED)
    tried, worse = 0, []
    for case in (c for c in cases if not c.ambiguous):
        alone = rank(index, case, ())
        for trace in pick.sample(traces, min(per_question, len(traces))):
            if trace.expected == case.expected:
                continue
            tried += 1
            with_trace = rank(index, case, signals[trace.id])
            if with_trace > alone:
                worse.append((case.id, trace.id, alone, with_trace))
    return tried, worse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-question", type=int, default=12)
    args = parser.parse_args()
    config = load_project_file(DEMO_PROJECT_FILE)
    folder = help_folder(DEMO_PROJECT_FILE, config.help_docs)
    assert folder is not None
    index = load_help_index(folder, config)
    tried, worse = lowered(index, config, load_cases(DEFAULT_CASES), args.per_question)
    print(f"clear question x trace about another article: {len(worse)} of {tried} lower")
    for case_id, trace_id, alone, with_trace in worse:
        print(f"  {case_id} after {trace_id}: {alone} -> {with_trace}")


if __name__ == "__main__":
    main()
