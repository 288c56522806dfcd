"""An eval report as Markdown (for people and `--out`) and as JSON (for scripts and CI)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from evals.runner import FLOORS, EvalReport, scores

ROWS = (  # (Scores field, label), in the order reports show them
    ("fully_useful", "fully useful answers"),
    ("partly_useful", "useful counting partial"),
    ("tool_selection", "tool selection"),
    ("arguments", "arguments"),
    ("facts", "answer facts"),
    ("status", "status"),
    ("grounding_rate", "grounding rate"),
    ("clarify_precision", "clarify precision"),
    ("clarify_recall", "clarify recall"),
    ("passed", "cases passing every check"),
)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def as_dict(report: EvalReport) -> dict[str, Any]:
    return {
        "model": report.model,
        "floors": FLOORS,
        "floors_met": report.floors_met(),
        "scores": {
            name: asdict(scores(report.split(key)))
            for name, key in (("all", None), ("heldout", "heldout"), ("train", "train"))
        },
        "failures": [
            {
                "id": r.case.id,
                "split": r.split,
                "prompt": r.case.prompt,
                "user": r.case.user,
                "run_id": r.run_id,
                "status": r.status,
                "tools": r.tools,
                "diffs": r.diffs,
            }
            for r in report.results
            if not r.passed
        ],
    }


def markdown(report: EvalReport) -> str:
    splits = {
        name: scores(report.split(key)) for name, key in (("held-out", "heldout"), ("train", "train"), ("all", None))
    }
    lines = [
        f"# Eval report: {report.model}",
        "",
        "| metric | " + " | ".join(f"{n} ({s.cases})" for n, s in splits.items()) + " |",
        "|---|" + "---|" * len(splits),
    ]
    for key, label in ROWS:
        lines.append(f"| {label} | " + " | ".join(pct(getattr(s, key)) for s in splits.values()) + " |")
    lines.append(
        "| latency p50 / p95 | "
        + " | ".join(f"{s.latency_p50:.2f} s / {s.latency_p95:.2f} s" for s in splits.values())
        + " |"
    )
    met = report.floors_met()
    lines += [
        "",
        "Floors on the held-out split: "
        + ", ".join(f"{k} >= {v:.0%} ({'met' if met[k] else 'NOT met'})" for k, v in FLOORS.items())
        + ".",
    ]
    failures = [r for r in report.results if not r.passed]
    lines += ["", f"## Failures ({len(failures)})"]
    for r in failures:
        who = f" as {r.case.user}" if r.case.user else ""
        lines += [
            "",
            f"- **{r.case.id}** ({r.split}{who}): {r.case.prompt!r} -> {r.status}, tools {r.tools}, `{r.run_id}`",
        ]
        lines += [f"  - {d}" for d in r.diffs]
    return "\n".join(lines) + "\n"
