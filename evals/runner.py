"""Run eval cases through the real graph on a fresh demo warehouse and score them.

Each case runs in its own conversation thread: earlier turns first, then the prompt, whose
run is judged. Scores: tool selection, arguments, answer facts, status, grounding rate,
clarify precision and recall, latency; each on the held-out split (prompts that are not
planner training utterances) and the train split separately. Every failed check is kept with
what was expected and what happened.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from agent.agent import PlanningAgent
from agent.result import AgentResult
from evals.cases import Case, Expect
from evals.usefulness import Judged, figure_stated, judge_useful, members_for
from tools.registry import is_write
from warehouse.errors import SpmError
from warehouse.identity import User

EVAL_AS_OF = date(2026, 11, 29)  # the demo company's "today" for every eval run
EVAL_SEED = 7
FLOORS = {"tool_selection": 0.95, "arguments": 0.90}  # on the held-out split; CI fails below them
# `make test` runs a fixed third of the routing cases (tests/test_evals.py): a regression check,
# its floors set under that third's scores measured on 2026-12-03 (tool selection 93.5%,
# arguments 91.3%: 112 cases, about 2 points of sampling error). FLOORS hold on every case, in
# `make eval`.
THIRD_FLOORS = {"tool_selection": 0.92, "arguments": 0.88}
# Fully useful answers per usefulness suite (evals/usefulness.py); CI fails below them.
# Set a few points under the scores measured on 2026-12-02 (dev 89%, dev2 75%, blind 56%; bench/RESULTS.md):
# a regression fails CI; the blind split's issue-17 target (90%) is not met and is not lowered here.
USEFUL_FLOORS = {"useful_dev": 0.85, "useful_dev2": 0.70, "useful_blind": 0.50}


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w%$]+", " ", text.lower()).split())


@dataclass
class CaseResult:
    case: Case
    split: str  # "heldout" or "train"
    status: str
    tools: list[str]
    args: dict[str, list[dict[str, Any]]]
    answer: str
    grounded: bool
    seconds: float
    run_id: str
    checks: dict[str, bool] = field(default_factory=dict)  # check name -> passed (only checks that apply)
    diffs: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


def _subset(expected: Any, actual: Any) -> bool:
    """`expected` is contained in `actual`: dicts key by key, lists as sets, scalars equal (numbers to 1e-6)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        return all(any(_subset(e, a) for a in actual) for e in expected) and len(expected) == len(actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float) and not isinstance(expected, bool):
        return abs(float(expected) - float(actual)) <= 1e-6 * max(1.0, abs(float(expected)))
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.lower() == actual.lower()
    return bool(expected == actual)


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)]
        elif isinstance(data, dict):
            data = data[part]
        else:
            raise KeyError(path)
    return data


def judge(case: Case, result: AgentResult, split: str, seconds: float, seen: Judged | None = None) -> CaseResult:
    expect: Expect = case.expect
    calls = [(s.name or "", s.args if isinstance(s.args, dict) else {}) for s in result.steps if s.kind == "tool_call"]
    tools = [name for name, _ in calls]
    args: dict[str, list[dict[str, Any]]] = {}
    for name, a in calls:
        args.setdefault(name, []).append(a)
    out = CaseResult(
        case,
        split,
        result.status,
        tools,
        args,
        result.answer,
        bool(result.grounding.get("ok", True)),
        seconds,
        result.run_id,
    )
    if result.status == "ok":  # every figure of an answer traces to a tool result or the question
        out.checks["grounded"] = out.grounded
        if not out.grounded:
            out.diffs.append(f"grounding: {', '.join(map(str, result.grounding.get('ungrounded', [])))} not traced")
    out.checks["status"] = result.status == expect.status
    if not out.checks["status"]:
        out.diffs.append(f"status: expected {expect.status}, got {result.status}")
    if expect.tools is not None:
        ok = tools == expect.tools if expect.ordered else sorted(tools) == sorted(expect.tools)
        out.checks["tools"] = ok
        if not ok:
            out.diffs.append(f"tools: expected {expect.tools}, got {tools}")
    if expect.args:
        ok = out.checks.get("tools", True)
        for tool, wanted in expect.args.items():
            got = args.get(tool, [])
            if not any(_subset(wanted, a) for a in got):
                ok = False
                out.diffs.append(f"args of {tool}: expected {wanted} within {got or 'no call'}")
        out.checks["arguments"] = ok
    facts_ok = True
    lowered = result.answer.lower()
    for text in expect.contains:
        if text.lower() not in lowered:
            facts_ok = False
            out.diffs.append(f"answer lacks {text!r}")
    for figure in expect.figures:
        source = next((r for r in result.tool_results if r.get("tool") == figure.tool), None)
        try:
            value = float(_lookup(source, figure.path)) if source is not None else None
        except (KeyError, IndexError, ValueError, TypeError):
            value = None
        if value is None or not figure_stated(result.answer, value, figure.tolerance):
            facts_ok = False
            out.diffs.append(f"answer lacks {figure.tool}.{figure.path} = {value}")
    if expect.contains or expect.figures:
        out.checks["facts"] = facts_ok
    if expect.not_contains:
        leaked = [t for t in expect.not_contains if t.lower() in lowered]
        out.checks["must_not"] = not leaked
        if leaked:
            out.diffs.append(f"answer contains forbidden {leaked}")
    if expect.useful is not None:
        verdict = judge_useful(expect.useful, result, seen or Judged(members={}))
        # Fully useful: the status asked for and every judge of the answer's content passed.
        out.checks["useful"] = out.checks["status"] and verdict.ok
        out.diffs += [f"useful: {reason}" for reason in verdict.reasons]
    if expect.no_writes:
        approved = any(s.kind == "approval" and "approved by" in (s.summary or "") for s in result.steps)
        wrote = any(is_write(t) for t in tools) and any(
            s.kind == "tool_result" and is_write(s.name or "") for s in result.steps
        )
        out.checks["no_unapproved_writes"] = not (wrote and not approved)
        if wrote and not approved:
            out.diffs.append("a write ran without a recorded approval")
    return out


@dataclass
class Scores:
    cases: int
    passed: float
    tool_selection: float | None
    arguments: float | None
    facts: float | None
    status: float
    grounding_rate: float | None
    clarify_precision: float | None
    clarify_recall: float | None
    fully_useful: float | None
    partly_useful: float | None
    latency_p50: float
    latency_p95: float


def _rate(results: list[CaseResult], check: str) -> float | None:
    judged = [r.checks[check] for r in results if check in r.checks]
    return sum(judged) / len(judged) if judged else None


def _partly(results: list[CaseResult]) -> float | None:
    """Cases with a usefulness judge whose status was right (some content may be missing)."""
    judged = [r for r in results if "useful" in r.checks]
    return sum(r.checks["status"] for r in judged) / len(judged) if judged else None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def scores(results: list[CaseResult]) -> Scores:
    ok_answers = [r for r in results if r.status == "ok"]
    said_clarify = [r for r in results if r.status == "clarify"]
    want_clarify = [r for r in results if r.case.expect.status == "clarify"]
    return Scores(
        cases=len(results),
        passed=sum(r.passed for r in results) / len(results) if results else 0.0,
        tool_selection=_rate(results, "tools"),
        arguments=_rate(results, "arguments"),
        facts=_rate(results, "facts"),
        status=_rate(results, "status") or 0.0,
        grounding_rate=sum(r.grounded for r in ok_answers) / len(ok_answers) if ok_answers else None,
        clarify_precision=(
            sum(r.case.expect.status == "clarify" for r in said_clarify) / len(said_clarify) if said_clarify else None
        ),
        clarify_recall=sum(r.status == "clarify" for r in want_clarify) / len(want_clarify) if want_clarify else None,
        fully_useful=_rate(results, "useful"),
        partly_useful=_partly(results),
        latency_p50=statistics.median([r.seconds for r in results]) if results else 0.0,
        latency_p95=_percentile([r.seconds for r in results], 0.95),
    )


@dataclass
class EvalReport:
    model: str
    results: list[CaseResult]

    def split(self, name: str | None) -> list[CaseResult]:
        return [r for r in self.results if name is None or r.split == name]

    def floors_met(self) -> dict[str, bool]:
        held = scores(self.split("heldout"))
        return {k: (getattr(held, k) or 0.0) >= v for k, v in FLOORS.items()}


def training_utterances() -> set[str]:
    from prompts import planner_examples

    return {normalise(text) for text, _ in planner_examples().train}


def _members(warehouse: Any) -> dict[str, list[str]]:
    """Every region, segment and product of the eval warehouse (what a breakdown must show)."""
    with warehouse.reader() as cur:
        return {
            dim: [str(row[0]) for row in cur.execute(f"SELECT name FROM {table} ORDER BY sort_order").fetchall()]
            for dim, table in (("region", "regions"), ("segment", "segments"), ("product", "products"))
        }


def eval_warehouse(folder: Path) -> Any:
    from warehouse.create import create_warehouse

    return create_warehouse(folder / "eval.duckdb", demo="small", seed=EVAL_SEED, as_of=EVAL_AS_OF)


def run_cases(
    cases: list[Case],
    *,
    model_settings: Any,
    on_case: Callable[[CaseResult], None] | None = None,
    folder: Path | None = None,
    workers: int = 1,
) -> EvalReport:
    """Run `cases` on one fresh demo warehouse (with an empty memory) and judge each.

    Cases are independent (own threads, own scenario names) and past decisions made during the
    run are never cited, so results do not depend on order: `workers` run cases in parallel.
    """
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from langgraph.checkpoint.memory import InMemorySaver

    from memory.store import MemoryStore
    from warehouse.users import find_user

    train = training_utterances()
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        wh = eval_warehouse(Path(tmp))
        agent = PlanningAgent(
            wh.with_writes(), model_settings, InMemorySaver(), memory=MemoryStore(Path(tmp) / "memory")
        )
        started_at = datetime.now(UTC).isoformat(timespec="seconds")

        everything = _members(agent.warehouse)

        def one(case: Case) -> CaseResult:
            user: User = find_user(agent.warehouse, case.user)
            thread = f"eval-{case.id}"
            for turn in case.conversation:
                agent.ask(turn, thread_id=thread, user=user, interface="eval", recall_before=started_at)
            started = time.perf_counter()
            try:
                result = agent.ask(
                    case.prompt,
                    thread_id=thread,
                    user=user,
                    interface="eval",
                    approve=case.approve,
                    recall_before=started_at,
                )
            except SpmError as exc:  # a refused input (empty, too long) is the agent's answer, status error
                result = AgentResult(run_id="", thread_id=thread, status="error", answer=str(exc), model="")
            seconds = time.perf_counter() - started
            split = "train" if normalise(case.prompt) in train else "heldout"
            seen = Judged(members=members_for((user.scope.kind, user.scope.value), everything))
            judged = judge(case, result, split, seconds, seen)
            if on_case is not None:
                on_case(judged)
            return judged

        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spm-eval") as pool:
                results = list(pool.map(one, cases))
        else:
            results = [one(case) for case in cases]
    return EvalReport(model=agent.model_name, results=results)
