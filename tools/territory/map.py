"""Maps of a territory plan: accounts coloured by owner, before and after, with reps' homes.

Drawn on plain longitude/latitude axes rather than web map tiles, so the files work offline:
an interactive HTML page (plotly, JavaScript embedded) or a PNG (matplotlib). Large plans are
thinned to at most MAX_POINTS accounts per panel, evenly across owners.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from warehouse.errors import InputError

MAX_POINTS = 25_000


def _palette(keys: list[str]) -> dict[str, str]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {k: matplotlib.colors.to_hex(cmap(i % 20)) for i, k in enumerate(sorted(keys))}


def _thin(points: pd.DataFrame) -> pd.DataFrame:
    if len(points) <= MAX_POINTS:
        return points
    step = int(np.ceil(len(points) / MAX_POINTS))
    return points.sort_values(["after", "account_id"]).iloc[::step]


def save_map(points: pd.DataFrame, reps: pd.DataFrame, path: str | Path, title: str) -> Path:
    """points: account_id, name, lat, lon, before, after; reps: rep_id, name, home_lat, home_lon."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".png"):
        raise InputError(f"Cannot draw a map to {path.name}.", "Give a .html or .png path.")
    points = _thin(points.dropna(subset=["lat", "lon"]))
    if points.empty:
        raise InputError("No account in the plan has a location to draw.", "Import geos (postal codes with lat/lon).")
    colors = _palette(sorted(set(points["before"].dropna()) | set(points["after"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    homes = reps.dropna(subset=["home_lat", "home_lon"])
    if suffix == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(14, 6), sharex=True, sharey=True)
        for ax, column, label in ((axes[0], "before", "Before"), (axes[1], "after", "After")):
            c = points[column].map(colors).fillna("#bbbbbb")
            ax.scatter(points["lon"], points["lat"], s=6, c=c, alpha=0.8, linewidths=0)
            ax.scatter(homes["home_lon"], homes["home_lat"], marker="*", s=90, c="black")
            ax.set_title(label)
            ax.set_xlabel("longitude")
            ax.set_aspect("equal", adjustable="box")
        axes[0].set_ylabel("latitude")
        fig.suptitle(title[:150], fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=["Before", "After"], shared_xaxes=True, shared_yaxes=True)
    for col, column in ((1, "before"), (2, "after")):
        for rep, group in points.groupby(points[column].fillna("(none)"), sort=True):
            fig.add_trace(
                go.Scattergl(
                    x=group["lon"],
                    y=group["lat"],
                    mode="markers",
                    name=str(rep),
                    legendgroup=str(rep),
                    showlegend=col == 1,
                    marker={"size": 5, "color": colors.get(str(rep), "#bbbbbb")},
                    text=group["name"] + " (" + group["account_id"] + ")",
                    hoverinfo="text",
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=homes["home_lon"],
                y=homes["home_lat"],
                mode="markers",
                name="rep homes",
                marker={"symbol": "star", "size": 11, "color": "black"},
                text=homes["name"] + " (" + homes["rep_id"] + ")",
                hoverinfo="text",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
    fig.update_layout(title=title[:150], height=650)
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
