"""The balance-vs-disruption chart: what each cap on value moved buys in balance.

One point per plan of the Pareto table (x: share of value moved; y: reps left outside the band,
with the farthest rep's deviation on a second axis), labelled with its cap, the plan that meets
the band marked, so a leader sees where extra disruption stops paying. PNG (matplotlib) or HTML
(plotly, JavaScript embedded); both read only the table's rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.errors import InputError

SUFFIXES = (".png", ".html")


def check_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"Cannot draw the trade-off chart to {path.name}.", "Give a .png or .html path.")
    return path


def save_pareto_chart(rows: list[dict[str, Any]], path: str | Path, band: float, title: str) -> Path:
    path = check_path(path)
    if not rows:
        raise InputError("There is no trade-off table to draw.", "Run with --pareto.")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Caps with room to spare give the same plan: one point, its labels joined ("cap 10%, meets band").
    points: dict[tuple[float, int, float], tuple[dict[str, Any], list[str]]] = {}
    for r in rows:
        key = (r["moved_share"], r["reps_outside_band"], r["worst_deviation"])
        points.setdefault(key, (r, []))[1].append("meets band" if r["cap"] is None else f"cap {r['cap']:.0%}")
    rows = [r for r, _ in points.values()]
    labels = [", ".join(names) for _, names in points.values()]
    x = [100 * r["moved_share"] for r in rows]
    outside = [r["reps_outside_band"] for r in rows]
    worst = [100 * r["worst_deviation"] for r in rows]
    heading = f"{title}: balance vs disruption (band ±{band:.0%})"
    if path.suffix.lower() == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 5.2))
        ax.plot(x, outside, "-o", color="#1f77b4", label="reps outside the band")
        for xi, yi, label in zip(x, outside, labels, strict=True):
            ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(-6, 8), fontsize=8, ha="right")
        met = [i for i, label in enumerate(labels) if "meets band" in label]
        ax.scatter([x[i] for i in met], [outside[i] for i in met], marker="*", s=220, c="#2ca02c", zorder=5,
                   label="the plan that meets the band")  # fmt: skip
        ax.set_xlabel("value moved (% of the book)")
        ax.set_ylabel("reps outside the band", color="#1f77b4")
        right = ax.twinx()
        right.plot(x, worst, "--s", color="#d62728", label="farthest rep from target (%)")
        right.axhline(100 * band, color="#d62728", lw=0.8, alpha=0.5)
        right.set_ylabel("farthest rep from target (%)", color="#d62728")
        ax.set_ylim(bottom=0)
        right.set_ylim(bottom=0)
        ax.set_title(heading, fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        fig.legend(loc="upper right", bbox_to_anchor=(0.88, 0.88), fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    hover = [
        f"{label}: {r['accounts_moved']} accounts moved, {r['reps_outside_band']} reps outside, "
        f"farthest {100 * r['worst_deviation']:.1f}%"
        for label, r in zip(labels, rows, strict=True)
    ]
    fig.add_trace(
        go.Scatter(x=x, y=outside, mode="lines+markers+text", text=labels, textposition="top right",
                   name="reps outside the band", hovertext=hover, hoverinfo="text"),
        secondary_y=False,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=worst, mode="lines+markers", name="farthest rep from target (%)",
                   line={"dash": "dash"}, hovertext=hover, hoverinfo="text"),
        secondary_y=True,
    )  # fmt: skip
    fig.update_layout(title=heading, xaxis_title="value moved (% of the book)", height=520)
    fig.update_yaxes(title_text="reps outside the band", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="farthest rep from target (%)", rangemode="tozero", secondary_y=True)
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
