"""Drawing a forecast: history, P50 and the P10-P90 band, the target and each period's gap,
and the period in progress with what is booked so far, per top-level series.

PNG through matplotlib (headless Agg backend), interactive HTML through plotly. Both read only
the result's `history` and `forecast` tables, so any saved JSON result can be drawn again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tools.forecast.models import ForecastResult
from tools.forecast.recommend import ALL_DATA
from warehouse.errors import InputError

MAX_PANELS = 6


def _series(result: ForecastResult) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    history = pd.DataFrame(result.tables.get("history", []))
    forecast = pd.DataFrame(result.tables.get("forecast", []))
    current = pd.DataFrame(result.tables.get("current_period", []))
    if not current.empty:
        forecast = pd.concat([current, forecast], ignore_index=True)
    dims = [c for c in history.columns if c not in ("period", "bookings")]
    out = []
    keys = history[dims].drop_duplicates().to_dict("records") if dims else [{}]
    keys.sort(key=lambda k: sum(v != "All" for v in k.values()))
    for key in keys[:MAX_PANELS]:
        name = " ".join(v for v in key.values() if v != "All") or ALL_DATA
        h, f = history, forecast
        for d, v in key.items():
            h, f = h[h[d] == v], f[f[d] == v]
        out.append((name, h, f))
    return out


def _millions(value: float) -> str:
    return f"${value / 1e6:,.1f}M"


def _draw_panel(ax: Any, name: str, h: pd.DataFrame, f: pd.DataFrame) -> None:
    """One series: bookings, the P50 line inside its P10-P90 band, the target with each
    period's gap written beside it, and the period in progress marked with what is booked."""
    x_hist, x_fc = list(h["period"]), list(f["period"])
    ax.plot(x_hist, h["bookings"] / 1e6, marker="o", color="#333333", label="bookings")
    if x_hist and x_fc:  # join history to the forecast so the eye follows one line
        ax.plot([x_hist[-1], x_fc[0]], [h["bookings"].iloc[-1] / 1e6, f["p50"].iloc[0] / 1e6], color="#1f77b4", lw=1)
    ax.fill_between(x_fc, f["p10"] / 1e6, f["p90"] / 1e6, color="#1f77b4", alpha=0.18, label="P10-P90 (80% band)")
    ax.plot(x_fc, f["p50"] / 1e6, marker="o", color="#1f77b4", label="P50")
    if "target" in f and f["target"].notna().any():
        ax.plot(x_fc, f["target"] / 1e6, linestyle="--", marker="_", color="#d62728", label="target")
        for x, p50, target in zip(x_fc, f["p50"], f["target"], strict=True):
            if pd.isna(target):
                continue
            gap = target - p50
            text = f"gap {_millions(gap)}" if gap > 0 else f"+{_millions(-gap)} over"
            ax.annotate(
                text,
                (x, max(p50, target) / 1e6),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                color="#d62728" if gap > 0 else "#2ca02c",
            )
    if "booked_to_date" in f and f["booked_to_date"].notna().any():
        row = f[f["booked_to_date"].notna()].iloc[0]
        ax.axvspan(row["period"], row["period"], color="#999999", alpha=0.3, lw=14)
        ax.bar([row["period"]], [row["booked_to_date"] / 1e6], width=0.35, color="#7f7f7f", alpha=0.6,
               label="booked to date (period in progress)")  # fmt: skip
        ax.annotate(
            f"in progress: {_millions(row['booked_to_date'])} booked",
            (row["period"], row["booked_to_date"] / 1e6),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=7,
            color="#555555",
        )
    ax.set_title(f"{name}: bookings forecast, P50 with its 80% band, against target", fontsize=10)
    ax.set_ylabel("USD millions")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.legend(loc="upper left", fontsize=7)


def save_plot(result: ForecastResult, path: str | Path) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html"):
        raise InputError(f"Cannot draw to {path.name}.", "Give a .png or .html path.")
    panels = _series(result)
    if not panels:
        raise InputError("The result has no history to draw.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.8 * len(panels)), squeeze=False)
        for ax, (name, h, f) in zip(axes[:, 0], panels, strict=True):
            _draw_panel(ax, name, h, f)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=[p[0] for p in panels])
    for row, (_, h, f) in enumerate(panels, start=1):
        fig.add_trace(
            go.Scatter(x=h["period"], y=h["bookings"], name="bookings", line={"color": "#333"}),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(x=f["period"], y=f["p90"], line={"width": 0}, showlegend=False),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(x=f["period"], y=f["p10"], fill="tonexty", line={"width": 0}, name="P10-P90"),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(x=f["period"], y=f["p50"], name="P50", line={"color": "#1f77b4"}),
            row=row,
            col=1,
        )
        if "target" in f and f["target"].notna().any():
            gaps = [
                "" if pd.isna(t) else (f"gap {_millions(t - p)}" if t > p else f"{_millions(p - t)} over")
                for p, t in zip(f["p50"], f["target"], strict=True)
            ]
            fig.add_trace(
                go.Scatter(
                    x=f["period"],
                    y=f["target"],
                    name="target",
                    mode="lines+markers+text",
                    text=gaps,
                    textposition="top center",
                    line={"dash": "dash", "color": "#d62728"},
                ),
                row=row,
                col=1,
            )
        if "booked_to_date" in f and f["booked_to_date"].notna().any():
            now = f[f["booked_to_date"].notna()]
            fig.add_trace(
                go.Bar(
                    x=now["period"],
                    y=now["booked_to_date"],
                    name="booked to date (period in progress)",
                    marker={"color": "#7f7f7f"},
                    opacity=0.6,
                    width=0.35,
                ),
                row=row,
                col=1,
            )
    fig.update_layout(height=320 * len(panels), title=result.summary[:120])
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
