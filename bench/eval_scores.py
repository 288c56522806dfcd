"""Eval scores of the offline planner on every suite: held-out and train splits, and the blind
suite (written without looking at the planner's training data or tuning against it)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.report import table, write_section


def run() -> None:
    from agent.models import ModelSettings
    from evals.cases import load_all
    from evals.report import ROWS, pct
    from evals.runner import FLOORS, run_cases, scores

    with tempfile.TemporaryDirectory() as tmp:
        # The routing suites (tools and arguments); the usefulness suites have their own section (bench usefulness).
        cases = [c for c in load_all() if not c.suite.startswith("useful_")]
        report = run_cases(cases, model_settings=ModelSettings(provider="offline"), folder=Path(tmp), workers=2)
    groups = {
        "held-out": [r for r in report.results if r.split == "heldout"],
        "train": [r for r in report.results if r.split == "train"],
        "blind suite": [r for r in report.results if "blind" in r.case.tags],
        "all": report.results,
    }
    sc = {name: scores(rows) for name, rows in groups.items() if rows}
    rows = [[label, *(pct(getattr(s, key)) for s in sc.values())] for key, label in ROWS]
    rows.append(["latency p50 / p95", *(f"{s.latency_p50:.2f} / {s.latency_p95:.2f} s" for s in sc.values())])
    md = "## Evals: offline planner on the eval suites\n\n"
    md += (
        f"{len(report.results)} cases through the real graph on a fresh small demo (`spm eval`). Held-out = prompts "
        "that are not training utterances. The planner was tuned on failures of these suites, so the figures "
        "are optimistic. The blind suite was written without seeing the training data; its first run, before "
        "any tuning, scored 88.3% tool selection and 77.3% arguments; its failure classes were then fixed in "
        "general form, so it is no longer blind either.\n\n"
    )
    md += table(["metric", *(f"{n} ({s.cases})" for n, s in sc.items())], rows)
    met = report.floors_met()
    md += (
        "\n\nCI floors on the held-out split: "
        + ", ".join(f"{k} >= {v:.0%} ({'met' if met[k] else 'NOT met'})" for k, v in FLOORS.items())
        + "."
    )
    write_section("eval_scores", md)
