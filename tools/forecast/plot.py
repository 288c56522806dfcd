"""Drawing a forecast: history, P50 and the P10-P90 band, per top-level series.

PNG through matplotlib (headless Agg backend), interactive HTML through plotly. Both read only
the result's `history` and `forecast` tables, so any saved JSON result can be drawn again.
"""

from __future__ import annotations

from pathlib import Path

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

        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
        for ax, (name, h, f) in zip(axes[:, 0], panels, strict=True):
            x_hist = list(h["period"])
            x_fc = list(f["period"])
            ax.plot(x_hist, h["bookings"] / 1e6, marker="o", color="#333333", label="bookings")
            ax.plot(x_fc, f["p50"] / 1e6, marker="o", color="#1f77b4", label="P50")
            ax.fill_between(x_fc, f["p10"] / 1e6, f["p90"] / 1e6, color="#1f77b4", alpha=0.2, label="P10-P90")
            if "target" in f and f["target"].notna().any():
                ax.plot(x_fc, f["target"] / 1e6, linestyle="--", color="#d62728", label="target")
            ax.set_title(name)
            ax.set_ylabel("USD millions")
            ax.tick_params(axis="x", labelrotation=60, labelsize=7)
            ax.legend(loc="upper left", fontsize=7)
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
            fig.add_trace(
                go.Scatter(
                    x=f["period"],
                    y=f["target"],
                    name="target",
                    line={"dash": "dash", "color": "#d62728"},
                ),
                row=row,
                col=1,
            )
    fig.update_layout(height=320 * len(panels), title=result.summary[:120])
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
