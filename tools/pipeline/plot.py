"""Drawing a pipeline movement as a waterfall: the start pipeline, each flow that moved value
(entries up in green, exits down in red), and the end pipeline, every bar labelled with its
amount and deal count.

PNG through matplotlib (headless Agg backend), interactive HTML through plotly's own waterfall
trace (the page carries plotly.js, so it opens offline). Both read only the result's `waterfall`
table, so a saved JSON result can be drawn again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.core import format as fmt
from tools.pipeline.models import MovementResult
from warehouse.errors import InputError

UP, DOWN, TOTAL = "#2ca02c", "#d62728", "#4c6a92"


def _steps(result: MovementResult) -> list[dict[str, Any]]:
    rows = result.tables.get("waterfall", [])
    if not rows:
        raise InputError("The result has no pipeline movement to draw.")
    # Flows that moved nothing stay in the table but would be empty bars here.
    return [r for r in rows if r["step"] in ("start", "end") or r["amount"]]


def _title(result: MovementResult) -> str:
    head = result.summary.split(": ")
    return ": ".join(head[:2]) if len(head) > 2 else result.summary.split(" (")[0]


def _label(row: dict[str, Any]) -> str:
    deals = fmt.count(row["deals"])
    sign = "" if row["step"] in ("start", "end") else ("+" if row["amount"] > 0 else "-")
    return f"{sign}{fmt.money(abs(row['amount']))}\n{deals} deal{'' if row['deals'] == 1 else 's'}"


def save_plot(result: MovementResult, path: str | Path) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html"):
        raise InputError(f"Cannot draw to {path.name}.", "Give a .png or .html path.")
    steps = _steps(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        _png(result, steps, path)
    else:
        _html(result, steps, path)
    return path


def _png(result: MovementResult, steps: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(7.0, 1.25 * len(steps) + 2), 4.8))
    top = max(max(r["running"] for r in steps), 1.0)
    for i, r in enumerate(steps):
        if r["step"] in ("start", "end"):
            bottom, height, colour = 0.0, r["amount"], TOTAL
        else:
            bottom = min(r["running"], r["running"] - r["amount"])
            height, colour = abs(r["amount"]), UP if r["amount"] > 0 else DOWN
        ax.bar(i, height / 1e6, bottom=bottom / 1e6, color=colour, width=0.6)
        ax.text(i, (bottom + height) / 1e6 + top * 0.012 / 1e6, _label(r), ha="center", va="bottom", fontsize=8)
        if 0 < i < len(steps):  # the connector from the previous bar's level
            level = steps[i - 1]["running"] / 1e6
            ax.plot([i - 1 + 0.3, i - 0.3], [level, level], color="#999999", lw=0.8)
    ax.set_xticks(range(len(steps)), [r["label"].replace("Pipeline on ", "Pipeline\n") for r in steps], fontsize=8)
    ax.set_ylabel("pipeline, $M")
    ax.set_ylim(0, top * 1.18 / 1e6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(_title(result), fontsize=10, wrap=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _html(result: MovementResult, steps: list[dict[str, Any]], path: Path) -> None:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Waterfall(
            x=[r["label"] for r in steps],
            y=[r["amount"] for r in steps],
            measure=["absolute" if r["step"] in ("start", "end") else "relative" for r in steps],
            text=[_label(r).replace("\n", "<br>") for r in steps],
            textposition="outside",
            increasing={"marker": {"color": UP}},
            decreasing={"marker": {"color": DOWN}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": "#999999"}},
        )
    )
    fig.update_layout(title=_title(result), yaxis_title="pipeline (USD)", showlegend=False, height=520)
    fig.write_html(path, include_plotlyjs=True, full_html=True)
