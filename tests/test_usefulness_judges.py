"""The answer judges fail the answers a sales leader would reject and pass the ones they would
use: each judge is checked both ways on hand-written answers."""

from __future__ import annotations

from typing import Any

import pytest

from agent.result import AgentResult, StepView
from evals.usefulness import Judged, Useful, first_sentence, judge_useful, names_period, states

SEEN = Judged(members={"region": ["NA", "EMEA", "APAC", "LATAM"], "segment": ["Enterprise", "Mid-Market", "SMB"]})


def _result(
    answer: str,
    status: str = "ok",
    results: list[dict[str, Any]] | None = None,
    steps: list[tuple[str, str, dict[str, Any]]] | None = None,
) -> AgentResult:
    views = [StepView(seq=i, kind=k, name=n, args=a) for i, (k, n, a) in enumerate(steps or [], start=1)]
    return AgentResult(
        run_id="r", thread_id="t", status=status, answer=answer, model="m", tool_results=results or [], steps=views
    )


def _judge(useful: dict[str, Any], result: AgentResult) -> list[str]:
    return judge_useful(Useful.model_validate(useful), result, SEEN).reasons


def test_a_figure_answer_names_the_slice_and_period_with_a_number_first() -> None:
    useful = {"kind": "figure", "slice": {"region": ["EMEA"]}, "period": ["FY2028-Q1"]}
    assert not _judge(useful, _result("EMEA FY2028-Q1 P50 $2.12M vs target $2.57M."))
    assert _judge(useful, _result("The total for FY2028-Q1 is $8.4M."))  # another slice
    assert _judge(useful, _result("EMEA next quarter: P50 $2.12M."))  # the period not named
    assert _judge(useful, _result("Here is the EMEA FY2028-Q1 forecast.\nP50 $2.12M"))  # no figure first


def test_yes_no_must_come_first() -> None:
    useful = {"kind": "yes_no"}
    assert not _judge(useful, _result("No: FY2028-Q1 lands at P50 $8.42M against a $11.1M target."))
    assert _judge(useful, _result("FY2028-Q1 lands at P50 $8.42M against a $11.1M target."))


def test_a_breakdown_needs_a_table_with_every_member() -> None:
    table = "| region | P50 |\n|---|---|\n| NA | $4M |\n| EMEA | $2M |\n| APAC | $1M |\n| LATAM | $1M |"
    assert not _judge({"kind": "breakdown", "by": "region"}, _result("By region:\n" + table))
    assert _judge({"kind": "breakdown", "by": "region"}, _result("By region: NA $4M, EMEA $2M, APAC $1M, LATAM $1M."))
    assert _judge({"kind": "breakdown", "by": "region"}, _result("By region:\n" + table.replace("| LATAM | $1M |", "")))


def test_a_what_if_must_state_the_tools_baseline_and_what_if() -> None:
    comparison = [
        {
            "period": "FY2027-Q4",
            "metric": "P10 bookings",
            "unit": "USD",
            "baseline": 9.8e6,
            "what_if": 11.1e6,
            "change": 1.3e6,
        },
        {
            "period": "FY2028-Q1",
            "metric": "P50 bookings",
            "unit": "USD",
            "baseline": 8.42e6,
            "what_if": 9.59e6,
            "change": 1.17e6,
        },
    ]
    results = [{"tool": "forecast", "metrics": {"what_if": {}}, "tables": {"comparison": comparison}}]
    useful = {"kind": "what_if", "period": ["FY2028-Q1"]}
    good = "FY2028-Q1 P50 $9.59M with win rate +3 pts: $8.42M -> $9.59M (+$1.17M)."
    assert not _judge(useful, _result(good, results=results))
    assert _judge(useful, _result("FY2028-Q1 P50 $8.42M.", results=results))  # baseline only
    assert _judge(useful, _result(good))  # no what-if was run at all


def test_a_comparison_names_every_option_and_a_winner() -> None:
    useful = {"kind": "compare", "options": ["3 hires", "6 hires"]}
    assert not _judge(useful, _result("With 3 hires the gap is $2M, with 6 hires $0.5M: 6 hires is best."))
    assert _judge(useful, _result("With 3 hires the gap is $2M, with 6 hires $0.5M."))  # no winner
    assert _judge(useful, _result("6 hires is best: the gap falls to $0.5M."))  # an option missing


def test_a_chain_needs_a_result_feeding_the_next_tool() -> None:
    saved = [{"tool": "quota_simulate", "metrics": {"saved_scenario": {"name": "q-draft"}}}]
    fed = [
        ("tool_call", "quota_simulate", {"save_scenario": "q-draft"}),
        ("tool_call", "capacity_gap", {"scenario_id": "q-draft"}),
    ]
    unfed = [("tool_call", "quota_simulate", {"save_scenario": "q-draft"}), ("tool_call", "capacity_gap", {})]
    assert not _judge({"kind": "chain"}, _result("Quota $54M; capacity P50 $9.4M.", results=saved, steps=fed))
    assert _judge({"kind": "chain"}, _result("Quota $54M; capacity P50 $9.4M.", results=saved, steps=unfed))


def test_a_clarify_must_name_the_missing_piece() -> None:
    useful = {"kind": "clarify", "missing": "amount"}
    assert not _judge(useful, _result("By how much should quotas change? I can run +10%.", status="clarify"))
    assert _judge(useful, _result("I am not sure what you are asking for. Try a forecast.", status="clarify"))
    assert _judge({"kind": "clarify", "missing": "rep"}, _result("Which quarter do you mean?", status="clarify"))


@pytest.mark.parametrize(
    ("answer", "mention", "ok"),
    [
        ("attrition 15.0% a year", "15%", True),
        ("win rate +5 pts", "5 points", True),
        ("moving at most $2.00M", "$2M", True),
        ("below 3.00x", "3x", True),
        ("attrition 20%", "15%", False),
        ("moving at most $3.00M", "$2M", False),
    ],
)
def test_mentions_accept_any_rounding_of_the_same_figure(answer: str, mention: str, ok: bool) -> None:
    assert states(answer, mention) is ok


def test_periods_and_first_sentences_read_as_people_write_them() -> None:
    assert names_period("In H2 FY2028 we land $20M", "FY2028-H2")
    assert not names_period("In FY2028 we land $40M", "FY2028-H2")
    assert first_sentence("**Forecast**: EMEA P50 $2.12M. Then more.") == "forecast: emea p50 $2.12m."
