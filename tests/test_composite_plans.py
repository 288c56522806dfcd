"""The agent answers the question asked: compare, chain and explain plans, follow-ups that keep
every earlier constraint, clarifies that name the missing piece, and the answer contract
(the figure first, breakdowns as tables, what-ifs with baseline, what-if and change)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from agent.result import AgentResult
from interfaces.compose import checkpointer
from tools.compare.models import CompareInput
from tools.compare.tool import run_compare
from tools.quota.models import QuotaInput
from tools.registry import tool
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.users import find_user

OFFLINE = ModelSettings(provider="offline")


@pytest.fixture(scope="module")
def agent(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanningAgent:
    path = tmp_path_factory.mktemp("composite") / "wh.duckdb"
    shutil.copy(demo_path, path)
    return PlanningAgent(Warehouse(path, writable=True), OFFLINE, checkpointer(":memory:"))


def _ask(agent: PlanningAgent, *turns: str, user: str | None = None) -> AgentResult:
    thread = f"t-{abs(hash(turns))}"
    who = find_user(agent.warehouse, user)
    result = None
    for text in turns:
        result = agent.ask(text, thread_id=thread, user=who, interface="test")
    assert result is not None
    return result


def _calls(result: AgentResult) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    return [(s.name or "", s.args) for s in result.steps if s.kind == "tool_call"]


# --- compare -------------------------------------------------------------------------------


def test_compare_runs_every_option_on_the_same_draws_and_names_the_winner(demo: Warehouse) -> None:
    admin = find_user(demo, None)
    params = CompareInput.model_validate(
        {
            "tool": "quota_simulate",
            "base": {"period": "FY2028"},
            "variants": [
                {"label": "potential", "args": {"method": "potential"}},
                {"label": "equal", "args": {"method": "equal"}},
            ],
            "objective": "share_at_quota",
        }
    )
    result = run_compare(demo, params, admin)
    # Each option's figure is exactly what the quota tool gives on its own (same seed, same draws).
    spec = tool("quota_simulate")
    assert spec.run is not None
    for option in result.tables["options"]:
        alone = spec.run(demo, QuotaInput(period="FY2028", method=option["option"]), admin)
        assert option["objective"] == pytest.approx(alone.metrics["share_reps_at_quota"]["p50"])
    values = {o["option"]: o["objective"] for o in result.tables["options"]}
    winner = max(values, key=lambda k: values[k])
    assert result.metrics["winner"] == winner
    assert winner in result.summary and all(label in result.summary for label in values)
    assert result.recommendations[0].action.startswith(f"Go with {winner}")


def test_compare_refuses_options_that_change_the_draws_or_an_unknown_objective(demo: Warehouse) -> None:
    admin = find_user(demo, None)
    with pytest.raises(InputError, match="same draws"):
        run_compare(
            demo,
            CompareInput.model_validate(
                {"tool": "quota_simulate", "variants": [{"label": "a", "args": {"seed": 1}}, {"label": "b"}]}
            ),
            admin,
        )
    with pytest.raises(InputError, match="share_at_quota"):
        run_compare(
            demo,
            CompareInput.model_validate(
                {"tool": "quota_simulate", "variants": [{"label": "a"}, {"label": "b"}], "objective": "vibes"}
            ),
            admin,
        )


def test_compare_three_bands_in_chat_names_every_option_and_the_winner(agent: PlanningAgent) -> None:
    result = _ask(agent, "APAC: 10 vs 15 vs 20% band - which gives the least disruption?")
    (name, args), *_ = _calls(result)
    assert name == "compare_plans" and args["tool"] == "territory_rebalance"
    assert [v["args"]["band"] for v in args["variants"]] == [0.1, 0.15, 0.2]
    assert args["base"]["filters"] == {"region": ["APAC"]}
    for label in ("±10%", "±15%", "±20%"):
        assert label in result.answer
    assert "(best)" in result.answer and "| option |" in result.answer


def test_compare_allocation_methods_on_attainment(agent: PlanningAgent) -> None:
    result = _ask(
        agent, "Which allocation method gives the most reps at quota next year - historical, potential or equal?"
    )
    (name, args), *_ = _calls(result)
    assert name == "compare_plans" and args["objective"] == "share_at_quota"
    assert [v["label"] for v in args["variants"]] == ["historical", "potential", "equal"]
    assert re.search(r"is best on P50 share of reps at quota", result.answer)


def test_a_follow_up_against_another_slice_compares_the_two(agent: PlanningAgent) -> None:
    result = _ask(agent, "forecast next quarter for Mid-Market", "how does that stack up against SMB?")
    (name, args), *_ = _calls(result)
    assert name == "compare_plans" and args["tool"] == "forecast"
    assert [v["label"] for v in args["variants"]] == ["Mid-Market", "SMB"]
    assert args["base"]["horizon"] == 1  # the earlier "next quarter" is kept


# --- chain ---------------------------------------------------------------------------------


def test_a_quota_what_if_chains_into_capacity_on_that_plan(agent: PlanningAgent) -> None:
    result = _ask(agent, "raise EMEA quotas 10% for FY28 and check capacity can actually carry it")
    calls = _calls(result)
    assert [n for n, _ in calls] == ["quota_simulate", "capacity_gap"]
    saved = calls[0][1]["save_scenario"]
    assert calls[1][1]["scenario_id"] == saved and calls[1][1]["period"] == "FY2028"
    # Each link is its own audited step, and the answer states the link.
    assert sum(1 for s in result.steps if s.kind == "tool_result") == 2
    assert f"(Chained: this ran on the draft scenario {saved}" in result.answer
    assert result.status == "ok"


def test_a_rebalance_chains_into_the_quota_on_that_territory_plan(agent: PlanningAgent) -> None:
    result = _ask(agent, "Rebalance APAC within 10%, then re-run the FY2028 quota allocation on that territory plan.")
    calls = _calls(result)
    assert [n for n, _ in calls] == ["territory_rebalance", "quota_simulate"]
    assert calls[1][1]["scenario_id"] == calls[0][1]["save_scenario"]
    assert calls[0][1]["band"] == 0.1


# --- follow-ups ----------------------------------------------------------------------------


def test_a_what_if_follow_up_keeps_the_region_and_horizon(agent: PlanningAgent) -> None:
    result = _ask(agent, "Forecast EMEA next quarter", "what if win rates rise 3 points there?")
    (name, args), *_ = _calls(result)
    assert name == "forecast"
    assert args["filters"] == {"region": ["EMEA"]} and args["horizon"] == 1
    assert args["what_if"] == {"win_rate_pts": 3.0}
    assert "EMEA" in result.answer.split("\n", 1)[0] and "FY2028-Q1" in result.answer.split("\n", 1)[0]


def test_territory_follow_ups_add_constraints_without_dropping_the_band(agent: PlanningAgent) -> None:
    result = _ask(
        agent,
        "Rebalance APAC within 10%",
        "cap it so no more than fifteen percent of the value moves",
        "lock any account with a late-stage deal and rerun",
    )
    (_, args), *_ = _calls(result)
    assert args["band"] == 0.1 and args["max_disruption"] == 0.15
    assert args["filters"] == {"region": ["APAC"]}
    assert set(args["lock"]) == {"strategic", "late-stage"}
    for said in ("±10%", "moving at most 15%", "late-stage"):
        assert said in result.answer


def test_a_capacity_follow_up_keeps_the_attrition_given_before(agent: PlanningAgent) -> None:
    result = _ask(agent, "How many AEs do we need for FY2028 with 25% attrition?", "and with a 6 month ramp?")
    (_, args), *_ = _calls(result)
    assert args == {"period": "FY2028", "attrition": 0.25, "ramp_months": 6}
    assert "attrition 25%" in result.answer and "ramp 6 months" in result.answer


def test_and_the_year_before_moves_the_period_back_a_year(agent: PlanningAgent) -> None:
    result = _ask(agent, "win rate by segment last quarter", "and the year before?")
    (_, args), *_ = _calls(result)
    assert args["period"] == "FY2026-Q3" and args["by"] == ["segment"]


# --- clarify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What if we raise quotas next year?", r"By how much"),
        ("how's chen doing against quota this quarter?", r"Which rep do you mean: .*Chen Tanaka"),
        ("How many reps do we need to hire to hit the stretch target?", r"What is the stretch target"),
    ],
)
def test_a_clarify_names_the_missing_piece(agent: PlanningAgent, question: str, named: str) -> None:
    result = _ask(agent, question)
    assert result.status == "clarify"
    assert re.search(named, result.answer)
    assert "I am not sure what you are asking" not in result.answer


# --- the answer contract -------------------------------------------------------------------


def test_a_breakdown_comes_as_a_table_with_every_member(agent: PlanningAgent) -> None:
    result = _ask(agent, "Forecast by region for next quarter")
    table = [line for line in result.answer.splitlines() if line.startswith("|")]
    assert table and "| region |" in table[0]
    for region in ("NA", "EMEA", "APAC", "LATAM"):
        assert any(f"| {region} |" in line for line in table)


def test_a_what_if_states_baseline_what_if_and_change_for_the_asked_period_first(agent: PlanningAgent) -> None:
    result = _ask(agent, "Forecast EMEA next quarter assuming win rates rise 3 points")
    lines = result.answer.splitlines()
    start = lines.index("Baseline -> what-if (change):")
    assert lines[start + 1].startswith("- P50 bookings FY2028-Q1:")
    assert re.search(r"\$[\d.]+[MK] -> \$[\d.]+[MK] \(\+\$[\d.]+[MK]\)", lines[start + 1])


def test_a_quota_what_if_on_one_region_reports_that_regions_attainment(agent: PlanningAgent) -> None:
    result = _ask(agent, "What if we raise EMEA quotas 10%?")
    lines = result.answer.splitlines()
    start = lines.index("Baseline -> what-if (change):")
    assert "EMEA" in lines[start + 1] and "share of reps at quota" in lines[start + 1]


def test_a_yes_no_question_gets_yes_or_no_first(agent: PlanningAgent) -> None:
    result = _ask(agent, "Are we going to make the number next quarter?")
    assert re.match(r"(Yes|No): FY2028-Q1 lands at P50 \$", result.answer)


def test_recommendations_are_not_repeated(agent: PlanningAgent) -> None:
    result = _ask(agent, "Forecast by region for next quarter")
    block = result.answer.split("What to do:", 1)[1].split("\n\n", 1)[0]
    actions = [line for line in block.splitlines() if line.startswith("- ")]
    keys = [re.sub(r"\b(?:region|segment) ", "", a.lower()) for a in actions]
    assert len(keys) == len(set(keys))


def test_hiring_levels_are_compared_on_the_gap_each_leaves(agent: PlanningAgent) -> None:
    result = _ask(agent, "EMEA: hire 3 vs 6 AEs - how much of next year's gap does each close?")
    (name, args), *_ = _calls(result)
    assert name == "compare_plans" and args["objective"] == "gap_with_hires"
    assert [v["args"]["hires"] for v in args["variants"]] == [3, 6]
    assert "6 hires (best)" in result.answer and "3 hires" in result.answer


def test_a_given_number_of_hires_and_a_data_check_for_one_region_are_single_asks(agent: PlanningAgent) -> None:
    hires = _ask(agent, "If we only get approval for 2 hires in EMEA next year, what's left of the gap?")
    (name, args), *_ = _calls(hires)
    assert name == "capacity_gap" and args["hires"] == 2 and args["filters"] == {"region": ["EMEA"]}
    assert "2 hires" in hires.answer.split("\n", 1)[0]
    checks = _ask(agent, "Run a data check on EMEA before we lock plans - anything broken?")
    (name, args), *_ = _calls(checks)
    assert name == "data_check" and args["filters"] == {"region": ["EMEA"]}
    assert "EMEA" in checks.answer.split("\n", 1)[0]


def test_a_figure_the_plan_did_not_use_is_named_not_dropped(agent: PlanningAgent) -> None:
    dropped = _ask(agent, "Forecast next quarter by region assuming 7% somewhere")
    assert "Not used from your question: 7%" in dropped.answer
    used = _ask(agent, "Rebalance APAC within 10%")
    assert "Not used from your question" not in used.answer and "band ±10%" in used.answer


# --- pipeline movement and deal risk ----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what changed in EMEA pipeline since last Monday?", {"since": "last monday", "filters": {"region": ["EMEA"]}}),
        ("pipeline waterfall for this quarter by region", {"since": "quarter start", "by": ["region"]}),
        (
            "how did the Q1 pipeline move since 2026-11-01 for enterprise",
            {"since": "2026-11-01", "close_in": "FY2028-Q1"},
        ),
        ("what got pushed out of the pipeline this week?", {}),
    ],
)
def test_pipeline_movement_questions_run_the_movement_with_their_days_and_slice(
    agent: PlanningAgent, question: str, expected: dict
) -> None:  # type: ignore[type-arg]
    result = _ask(agent, question)
    ((name, args),) = _calls(result)
    assert name == "pipeline_movement"
    got = {**args, "since": str(args.get("since", "")).lower() or None}
    for key, value in expected.items():
        assert got.get(key) == value or (key == "filters" and value.items() <= got["filters"].items()), (key, args)
    assert re.search(r"pipeline: \$[\d.]+[KM] on \d{4}-\d\d-\d\d -> \$[\d.]+[KM] on", result.answer)
    if args.get("by"):
        assert "| region | start" in result.answer and "| EMEA" in result.answer  # the breakdown asked for
    else:
        assert "| Pipeline on" in result.answer  # the waterfall's bars, start to end
    if "pushed out" in question:
        assert "| Pushed out" in result.answer  # the flow asked about, even at $0


def test_which_commit_deals_are_at_risk_lists_them_with_reasons(agent: PlanningAgent) -> None:
    result = _ask(agent, "which commit deals are at risk this quarter?")
    assert [n for n, _ in _calls(result)] == ["forecast"]
    assert "| deal " in result.answer and "| why " in result.answer
    assert re.search(r"pushed (?:once|\d+ times) \(-\d+ pts\)", result.answer)
