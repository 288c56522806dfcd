"""The eval suite as a gate: the offline planner must stay above the agreed floors on the
held-out split, and the judge itself must score what it claims to."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agent.models import ModelSettings
from agent.result import AgentResult, StepView
from evals.cases import Case, load_all, load_suite
from evals.report import as_dict, markdown
from evals.runner import FLOORS, THIRD_FLOORS, USEFUL_FLOORS, judge, normalise, run_cases, scores, training_utterances


def _result(answer: str, calls: list[tuple[str, dict]], status: str = "ok") -> AgentResult:  # type: ignore[type-arg]
    steps = [StepView(seq=i, kind="tool_call", name=n, args=a) for i, (n, a) in enumerate(calls, start=1)]
    return AgentResult(
        run_id="run-t",
        thread_id="t",
        status=status,
        answer=answer,
        steps=steps,
        model="m",
        tool_results=[{"tool": "metrics", "metrics": {"total": 12_595_400.0}}],
    )


def test_judge_checks_tools_arguments_facts_and_forbidden_text() -> None:
    case = Case.model_validate(
        {
            "id": "c",
            "prompt": "What's pipeline this quarter in EMEA?",
            "expect": {
                "tools": ["metrics"],
                "args": {"metrics": {"metric": "pipeline", "filters": {"region": ["EMEA"]}}},
                "contains": ["EMEA"],
                "figures": [{"tool": "metrics", "path": "metrics.total", "tolerance": 0.01}],
                "not_contains": ["APAC"],
            },
        }
    )
    good = _result("EMEA pipeline is $12.60M.", [("metrics", {"metric": "pipeline", "filters": {"region": ["EMEA"]}})])
    assert judge(case, good, "heldout", 0.1).passed
    wrong_args = judge(
        case, _result("EMEA pipeline is $12.60M.", [("metrics", {"metric": "bookings"})]), "heldout", 0.1
    )
    assert not wrong_args.checks["arguments"] and wrong_args.checks["tools"]
    wrong_figure = judge(case, _result("EMEA pipeline is $14.10M.", good_calls := [("metrics", {})]), "heldout", 0.1)
    assert not wrong_figure.checks["facts"] and good_calls
    leak = judge(case, _result("EMEA $12.60M; APAC $7.5M.", [("metrics", {})]), "heldout", 0.1)
    assert not leak.checks["must_not"]
    wrong_tool = judge(case, _result("EMEA $12.60M", [("forecast", {})]), "heldout", 0.1)
    assert not wrong_tool.checks["tools"] and not wrong_tool.checks["arguments"]


def test_suites_are_valid_large_enough_and_have_a_held_out_split() -> None:
    cases = load_all()
    assert len(cases) >= 150
    train = training_utterances()
    held_out = [c for c in cases if normalise(c.prompt) not in train]
    assert len(held_out) >= 100  # most wordings are never seen in training
    assert {"scope", "conversation", "robustness"} <= {t for c in cases for t in c.tags} | {
        p.stem for p in (Path(__file__).resolve().parents[1] / "evals" / "suites").glob("*.yaml")
    }


def _routing_cases() -> list[Case]:
    """The tool-and-argument suites (the usefulness suites are judged on their answers instead)."""
    return [c for c in load_all() if not c.suite.startswith("useful_")]


def _useful_cases() -> list[Case]:
    return [c for name in USEFUL_FLOORS for c in load_suite(name).cases]


def fixed_third(cases: list[Case]) -> list[Case]:
    """The cases `make test` gates on: a third chosen by a hash of each case's id, so the choice
    never depends on the order of the files or on cases added later. Running every case takes
    about 12 minutes of one core (~1.2 s a case, 615 cases), more than the whole suite's budget;
    `make eval` (in .ci/run) gates on all of them."""
    return [c for c in cases if hashlib.blake2b(c.id.encode(), digest_size=2).digest()[0] % 3 == 0]


def _meets_routing_floors(cases: list[Case], folder: Path, floors: dict[str, float]) -> None:
    report = run_cases(cases, model_settings=ModelSettings(provider="offline"), folder=folder, workers=2)
    summary = as_dict(report)
    held = summary["scores"]["heldout"]
    assert held["tool_selection"] >= floors["tool_selection"], markdown(report)
    assert held["arguments"] >= floors["arguments"], markdown(report)
    assert summary["scores"]["all"]["grounding_rate"] == 1.0  # every number in every answer traced
    writes = [r for r in report.results if not r.checks.get("no_unapproved_writes", True)]
    assert not writes, [r.case.id for r in writes]


def _meets_useful_floors(cases: list[Case], folder: Path) -> None:
    report = run_cases(cases, model_settings=ModelSettings(provider="offline"), folder=folder, workers=2)
    for suite, floor in USEFUL_FLOORS.items():
        judged = scores([r for r in report.results if r.case.suite == suite])
        assert (judged.fully_useful or 0.0) >= floor, (suite, judged.fully_useful, markdown(report))
    assert scores(report.results).grounding_rate == 1.0, markdown(report)


def test_the_fixed_third_is_a_third_of_every_suite_and_stable() -> None:
    routing, useful = _routing_cases(), _useful_cases()
    for cases in (routing, useful):
        chosen = fixed_third(cases)
        assert 0.25 * len(cases) <= len(chosen) <= 0.42 * len(cases)
        assert fixed_third(list(reversed(cases))) == list(reversed(chosen))  # order does not matter
    for suite in {c.suite for c in routing + useful}:
        of_suite = [c for c in routing + useful if c.suite == suite]
        assert fixed_third(of_suite), suite  # every suite is represented


@pytest.mark.slow
def test_offline_planner_meets_the_floors_on_a_fixed_third_of_the_held_out_split(tmp_path: Path) -> None:
    _meets_routing_floors(fixed_third(_routing_cases()), tmp_path, THIRD_FLOORS)


@pytest.mark.slow
def test_answers_are_fully_useful_on_a_fixed_third_of_the_suites_written_before_tuning(tmp_path: Path) -> None:
    _meets_useful_floors(fixed_third(_useful_cases()), tmp_path)


@pytest.mark.eval_full
def test_offline_planner_meets_the_floors_on_the_held_out_split(tmp_path: Path) -> None:
    _meets_routing_floors(_routing_cases(), tmp_path, FLOORS)


@pytest.mark.eval_full
def test_answers_are_fully_useful_on_the_suites_written_before_tuning(tmp_path: Path) -> None:
    _meets_useful_floors(_useful_cases(), tmp_path)
