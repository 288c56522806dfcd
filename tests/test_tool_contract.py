"""One contract every registered tool must pass (tools/registry.py), in the spirit of
scikit-learn's `parametrize_with_checks`: a new tool is held to it by registering.

Per tool: its result carries the contract fields and its spec's name; the same input and seed
give the same result; a scoped caller gets exactly what an admin filtered to that scope gets
(or, for tools that cover the whole organisation, a refusal naming the scope); requests above
the deployment's caps are refused; an empty warehouse gets a clear error, not a crash. Writes
are held to theirs: nothing changes without an approving decision.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.approvals import decision
from tools.limits import Limits
from tools.metrics.registry import METRICS
from tools.registry import TOOLS, tool
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.identity import LOCAL_USER, Scope, User
from warehouse.scenarios import save_scenario

# A cheap request per read tool, and how it is filtered to region EMEA (None: it covers the
# whole organisation and refuses scoped callers). A tool missing here fails test_every_tool_is_covered.
EXAMPLES: dict[str, dict[str, Any]] = {
    "forecast": {"horizon": 1, "trials": 300},
    "quota_simulate": {"trials": 300, "period": "FY2028-Q1"},
    "territory_rebalance": {"time_limit": 20, "filters": {"segment": ["SMB"]}},
    "capacity_gap": {"trials": 300, "period": "FY2028-Q1"},
    "metrics": {"metric": "coverage", "by": ["segment"]},
    "explain_variance": {"period": "FY2027-Q3"},
    "pipeline_movement": {"since": "quarter start", "by": ["segment"]},
    "data_check": {},
    "scenarios": {"action": "list"},
    "compare_plans": {
        "tool": "quota_simulate",
        "base": {"period": "FY2028-Q1"},
        "variants": [
            {"label": "potential", "args": {"method": "potential"}},
            {"label": "equal", "args": {"method": "equal"}},
        ],
    },
}
FILTERS: dict[str, str | None] = {
    "forecast": "filters",
    "quota_simulate": "filters",
    "territory_rebalance": "filters",
    "capacity_gap": "filters",
    "metrics": "filters",
    "explain_variance": "filters",
    "pipeline_movement": "filters",
    "data_check": "filters",
    "scenarios": None,
    "compare_plans": "base.filters",  # the options' shared arguments carry the slice
}
# Fields that say how the request was made (a scope, or a filter), not what it found.
REQUEST_FIELDS = {"filters"}
READS = [t for t in TOOLS if t.run is not None]
WRITES = [t for t in TOOLS if t.apply is not None]
EMEA = User("emea", "leader", Scope("region", "EMEA"))


def _run(spec: ToolSpec, wh: Warehouse, user: User = LOCAL_USER, **extra: Any) -> Any:
    assert spec.run is not None
    args = {**EXAMPLES[spec.name], **extra}
    if "filters" in extra and FILTERS[spec.name] == "base.filters":
        args.pop("filters")
        args["base"] = {**args["base"], "filters": extra["filters"]}
    elif "filters" in extra:  # a filter given narrows the example's own
        args["filters"] = {**EXAMPLES[spec.name].get("filters", {}), **extra["filters"]}
    return spec.run(wh, spec.input_model.model_validate(args), user)


TIMING_FIELDS = {"seconds"}  # how long a solver ran: not a finding


def _content(result: Any) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    data["metrics"] = {k: v for k, v in data["metrics"].items() if k not in REQUEST_FIELDS}
    data["tables"] = {
        name: [{k: v for k, v in row.items() if k not in TIMING_FIELDS} for row in rows]
        for name, rows in data["tables"].items()
    }
    return data


def test_every_tool_is_covered() -> None:
    assert {t.name for t in READS} == set(EXAMPLES) == set(FILTERS)
    assert [t.name for t in WRITES] == ["apply_scenario", "set_fiscal_calendar"]
    assert len({t.name for t in TOOLS}) == len(TOOLS)


@pytest.mark.parametrize("spec", READS, ids=lambda s: s.name)
def test_contract_and_determinism(spec: ToolSpec, demo: Warehouse) -> None:
    first = _run(spec, demo)
    assert first.tool == spec.name and spec.result_model.model_fields["tool"].default == spec.name
    assert first.summary.strip() and first.data_fingerprint.startswith("sha256:")
    for rec in first.recommendations:
        assert rec.action and rec.rationale and 0 <= rec.confidence <= 1
    assert spec.headline_tables == () or set(spec.headline_tables) & (set(first.tables) | {"comparison"})
    assert _content(_run(spec, demo)) == _content(first)  # same input, same seed: the same result


@pytest.mark.parametrize("spec", READS, ids=lambda s: s.name)
def test_a_scoped_caller_gets_what_an_admin_filtered_to_the_scope_gets(spec: ToolSpec, demo: Warehouse) -> None:
    if FILTERS[spec.name] is None:
        with pytest.raises(PermissionDeniedError, match="region EMEA"):
            _run(spec, demo, EMEA)
        return
    scoped = _run(spec, demo, EMEA)
    filtered = _run(spec, demo, filters={"region": ["EMEA"]})
    assert _content(scoped) == _content(filtered)
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        _run(spec, demo, EMEA, filters={"region": ["APAC"]})


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (Scope("region", "APAC"), {"region": ["APAC"]}),
        (Scope("segment", "SMB"), {"segment": ["SMB"]}),
        (Scope("team", "R-00001"), {"manager": ["R-00001"]}),
        (Scope("own", "R-00014"), {"rep": ["R-00014"]}),
    ],
    ids=["region", "segment", "team", "own"],
)
def test_every_kpi_scoped_equals_filtered(
    metric: str, scope: Scope, filters: dict[str, list[str]], demo: Warehouse
) -> None:
    spec = tool("metrics")
    by = [d for d in METRICS[metric].breakdowns if d in ("segment", "rep")][:1]
    period = "FY2027-Q3" if METRICS[metric].started else None
    args = {"metric": metric, "by": by, "period": period}
    scoped = spec.run(demo, spec.input_model.model_validate(args), User("u", "analyst", scope))  # type: ignore[misc]
    filtered = spec.run(demo, spec.input_model.model_validate({**args, "filters": filters}), LOCAL_USER)  # type: ignore[misc]
    assert _content(scoped) == _content(filtered)


@pytest.mark.parametrize("spec", READS, ids=lambda s: s.name)
def test_requests_above_the_caps_are_refused(spec: ToolSpec) -> None:
    params = spec.input_model.model_validate(EXAMPLES[spec.name])
    tight = Limits(max_trials=100, max_solver_seconds=1.0)
    if hasattr(params, "trials") or hasattr(params, "time_limit"):
        with pytest.raises(InputError, match="cap"):
            tight.check(params)
    else:
        tight.check(params)  # nothing to cap


@pytest.mark.parametrize("spec", READS, ids=lambda s: s.name)
def test_an_empty_warehouse_gets_a_clear_error(spec: ToolSpec, empty: Warehouse) -> None:
    try:
        result = _run(spec, empty)
    except (InputError, NotFoundError) as exc:
        assert exc.message and exc.hint, f"{spec.name}: {exc.message!r} has no hint saying what to do"
        return
    # A lookup that can answer on nothing says so in figures, not with an error.
    assert result.tool == spec.name and result.summary


@pytest.mark.parametrize("spec", WRITES, ids=lambda s: s.name)
def test_writes_change_nothing_without_an_approving_decision(spec: ToolSpec, demo_copy: Warehouse) -> None:
    with demo_copy.writer() as cur:
        save_scenario(cur, name="contract-draft", kind="quota", changes=[])
    args = {"apply_scenario": {"scenario": "contract-draft"}, "set_fiscal_calendar": {"start_month": 5}}[spec.name]
    params = spec.input_model.model_validate(args)
    described = spec.describe(demo_copy, args)  # type: ignore[misc]
    assert described["summary"] and "error" not in described
    before = _state(demo_copy)
    rep = User("rep", "rep", Scope("own", "R-00014"))
    for refused in (None, decision(LOCAL_USER, False, "no"), decision(rep, True, "yes")):
        with pytest.raises(PermissionDeniedError, match="not applied"):
            spec.apply(demo_copy, params, refused)  # type: ignore[misc]
    assert _state(demo_copy) == before
    applied = spec.apply(demo_copy, params, decision(LOCAL_USER, True, "approved"))  # type: ignore[misc]
    assert applied.tool == spec.name and "approved by local" in applied.summary
    assert _state(demo_copy) != before


def _state(wh: Warehouse) -> str:
    from warehouse.fingerprint import fingerprint

    with wh.reader() as cur:
        return fingerprint(cur, ["scenarios", "meta", "quotas", "accounts"])
