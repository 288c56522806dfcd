"""The offline planner: intent accuracy on held-out wordings, and `spm ask` latency on the small
demo after start-up (p50/p95 over representative questions, each tool at least once)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from bench.report import table, write_section

QUESTIONS = (
    "What's pipeline coverage this quarter by segment?",
    "Win rate by segment last quarter",
    "Who is below 50% attainment last quarter?",
    "What did we book last quarter by region?",
    "Forecast next quarter's bookings by region",
    "What if we raise EMEA quotas 10%?",
    "Rebalance NA Enterprise so every rep is within 10% of average potential",
    "How many AEs must we hire to make next year?",
    "Check the data quality",
    "Forecast next quarter and tell me how many reps to hire",
)
ROUNDS = 3


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def accuracy_rows() -> tuple[list[list[object]], float]:
    from agent.planner.intents import intent_model
    from prompts import planner_examples

    examples = planner_examples()
    model = intent_model()
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for text, label in examples.held_out:
        totals[label] += 1
        hits[label] += model.classify(text)[0].name == label
    rows: list[list[object]] = [[k, totals[k], f"{hits[k] / totals[k]:.0%}"] for k in sorted(totals)]
    overall = sum(hits.values()) / sum(totals.values())
    rows.append(["all", sum(totals.values()), f"{overall:.1%}"])
    return rows, overall


def run() -> None:
    from agent.agent import PlanningAgent
    from agent.models import ModelSettings
    from interfaces.compose import checkpointer
    from prompts import planner_examples
    from warehouse.create import create_warehouse

    examples = planner_examples()
    with tempfile.TemporaryDirectory() as tmp:
        wh = create_warehouse(Path(tmp) / "small.duckdb", demo="small", seed=7, as_of=date(2026, 11, 29))
        start = time.perf_counter()
        agent = PlanningAgent(wh.with_writes(), ModelSettings(provider="offline"), checkpointer(":memory:"))
        agent.ask("help")
        startup = time.perf_counter() - start
        timings: dict[str, list[float]] = {}
        for _ in range(ROUNDS):
            for question in QUESTIONS:
                t = time.perf_counter()
                result = agent.ask(question)
                elapsed = time.perf_counter() - t
                assert result.status == "ok", (question, result.answer)
                timings.setdefault(question, []).append(elapsed)
    acc_rows, overall = accuracy_rows()
    every = [v for vs in timings.values() for v in vs]
    latency = [[q, f"{statistics.median(v):.2f} s", f"{max(v):.2f} s"] for q, v in timings.items()]
    md = "## Agent: offline planner accuracy and `spm ask` latency\n\n"
    md += (
        f"Intent accuracy on {len(examples.held_out)} held-out utterances (templates never seen in training; "
        f"{len(examples.train)} training utterances): **{overall:.1%}**.\n\n"
    )
    md += table(["intent", "held-out utterances", "accuracy"], acc_rows)
    md += (
        f"\n\nLatency on the small demo, in process after start-up (start-up incl. training the classifier: "
        f"{startup:.1f} s), {ROUNDS} rounds of {len(QUESTIONS)} questions: "
        f"**p50 {_percentile(every, 0.5):.2f} s, p95 {_percentile(every, 0.95):.2f} s** (every tool runs for real; "
        "the audit trail is written).\n\n"
    )
    md += table(["question", "median", "max"], latency)
    write_section("agent_speed", md)


if __name__ == "__main__":
    run()
