"""The walkthroughs of docs/architecture.md, followed: a new KPI is one registration plus its rows;
a new tool is its package plus one registration. Throwaway ones, registered for the test only."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict, Field

from interfaces.render import cell
from tools import registry
from tools.contract import ToolResult
from tools.metrics import kpis
from tools.metrics.models import MetricsInput
from tools.metrics.registry import MetricSpec, register, unregister
from tools.metrics.tool import run_metrics
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import Scope, User


def deals_won(w: kpis.Window) -> pd.DataFrame:
    """Step 1: the KPI's rows, its SQL built from the window's query (scope and filters apply)."""
    where, params = w.query.where("opportunities", "o", "a")
    return w.cur.query_df(
        f"""SELECT {w.query.select("opportunities")}count(*) AS value
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE o.is_won AND o.close_date >= ? AND o.close_date < ? AND {where} {w.query.group()}""",
        [w.period.start, w.realised_stop, *params],
    )


@pytest.fixture
def won_kpi() -> Iterator[None]:
    register(  # step 2: one registration
        MetricSpec(
            "deals_won",
            "count",
            "deals won in the period",
            deals_won,
            kpis.total_sum,
            tables=("opportunities", "accounts", "reps"),
            started=True,
            words=r"deals won",
        )
    )
    yield
    unregister("deals_won")


def test_a_new_kpi_is_one_registration(won_kpi: None, demo: Warehouse) -> None:
    result = run_metrics(demo, MetricsInput(metric="deals_won", period="FY2027-Q3", by=["region"]))
    with demo.reader() as cur:
        won = cur.scalar(
            "SELECT count(*) FROM opportunities WHERE is_won AND close_date >= '2026-08-01' AND close_date < '2026-11-01'"
        )
    assert result.metrics["total"] == won and result.metrics["unit"] == "count"
    assert sum(r["value"] for r in result.tables["values"]) == won
    assert result.summary.startswith(f"Deals won in FY2027-Q3 (all data): {won:,}")
    assert "deals_won" in MetricsInput.model_json_schema()["properties"]["metric"]["enum"]  # what models see
    scoped = run_metrics(demo, MetricsInput(metric="deals_won", period="FY2027-Q3"), scope=Scope("region", "APAC"))
    filtered = run_metrics(demo, MetricsInput(metric="deals_won", period="FY2027-Q3", filters={"region": ["APAC"]}))
    assert scoped.metrics["total"] == filtered.metrics["total"] < won
    from agent.planner.arguments import metrics as planner_metrics
    from agent.planner.slots import Slots

    assert planner_metrics("how many deals won last quarter?", Slots(), None)["metric"] == "deals_won"  # type: ignore[arg-type]


class EchoInput(BaseModel):
    """Say how many accounts the caller can see."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field("", description="Anything.")


class EchoResult(ToolResult):
    tool: str = "account_count"


def _run(wh: Warehouse, params: EchoInput, user: User) -> ToolResult:
    from tools.core.selection import Selection

    sql, args = Selection.of(user.scope).where("accounts", "a")
    with wh.reader() as cur:
        n = cur.scalar(f"SELECT count(*) FROM accounts a WHERE {sql}", args)
    return EchoResult(summary=f"{n} accounts.", metrics={"accounts": n}, tables={"counts": [{"accounts_seen": n}]})


def test_a_new_tool_is_one_registration(demo: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ToolSpec(
        "account_count", "Count the accounts the caller sees.", EchoInput, EchoResult, "Account count", run=_run,
        headline_tables=("counts",), column_units={"accounts_seen": "count"},
    )  # fmt: skip
    monkeypatch.setattr(registry, "TOOLS", (*registry.TOOLS, spec))  # the one line in tools/registry.py
    monkeypatch.setitem(registry.BY_NAME, spec.name, spec)

    from langgraph.checkpoint.memory import InMemorySaver

    from agent.agent import PlanningAgent
    from agent.models import ModelSettings
    from agent.tools import tools

    assert "account_count" in [t.name for t in tools()]  # bound for models
    agent = PlanningAgent(demo.with_writes(), ModelSettings(provider="offline"), InMemorySaver())
    everyone = agent.call_tool("account_count", {})
    apac = agent.call_tool("account_count", {}, user=User("a", "leader", Scope("region", "APAC")))
    assert apac["metrics"]["accounts"] < everyone["metrics"]["accounts"]  # the caller's scope applies
    assert cell("accounts_seen", 1234, tool="account_count") == "1,234"  # the views read its units
    with pytest.raises(ValueError, match="must be the same"):
        ToolSpec("misnamed", "x", EchoInput, EchoResult, "x", run=_run)
