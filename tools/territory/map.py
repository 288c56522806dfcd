"""Printable maps of a territory plan: per region, before beside after, on real outlines.

Each region gets a row: the accounts coloured by owner before and after the plan, rep homes as
stars, moves summed into arrows from the giving rep to the receiving one, moved accounts ringed,
and a legend of the largest books with their value before -> after. Outlines (coasts, countries,
states) come from outlines.py, offline. The same layout feeds the interactive page (map_html.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tools.core import format as fmt
from tools.territory.map_layout import LEGEND_REPS, UNOWNED, Panel, layout, title_lines
from tools.territory.outlines import outlines
from warehouse.errors import InputError

OUTLINE_STYLE = {"coast": (0.7, "#6b6b6b"), "country": (0.8, "#4a4a4a"), "state": (0.4, "#a8a8a8")}


def save_map(points: pd.DataFrame, reps: pd.DataFrame, path: str | Path, title: str, band: float) -> Path:
    """points: account_id, name, lat, lon, before, after, value, region;
    reps: rep_id, name, home_lat, home_lon, region, before, after (load over target)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".png"):
        raise InputError(f"Cannot draw a map to {path.name}.", "Give a .html or .png path.")
    panels = layout(points, reps, band)
    if not panels:
        raise InputError("No account in the plan has a location to draw.", "Import geos (postal codes with lat/lon).")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        from tools.territory.map_html import save_html

        return save_html(panels, path, title)
    return _save_png(panels, path, title)


def names(panel: Panel) -> dict[str, str]:
    return dict(zip(panel.reps["rep_id"], panel.reps["name"], strict=True))


def colours(panel: Panel) -> dict[str, str]:
    return dict(zip(panel.reps["rep_id"], panel.reps["colour"], strict=True))


def flow_width(value: float, largest: float) -> float:
    return 0.8 + 4.2 * value / max(largest, 1e-9)


def _save_png(panels: list[Panel], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(panels)
    # Each row is as tall as its maps at their true shape (a map is about 6.3 in wide), plus titles.
    heights = [min(max(6.6 * _shape(p.extent), 3.2), 7.5) + 1.1 for p in panels]
    height = sum(heights) + 0.8
    fig = plt.figure(figsize=(17, height))
    grid = fig.add_gridspec(
        rows, 3, width_ratios=[1, 1, 0.55], height_ratios=heights, hspace=0.3, wspace=0.06,
        top=1 - 1.0 / height, bottom=0.2 / height, left=0.03, right=0.99,
    )  # fmt: skip
    for row, panel in enumerate(panels):
        before = fig.add_subplot(grid[row, 0])
        after = fig.add_subplot(grid[row, 1], sharex=before, sharey=before)
        _draw_side(before, panel, "before")
        _draw_side(after, panel, "after")
        before.set_title(f"{panel.region}: before", fontsize=11, loc="left", parse_math=False)
        after.set_title(f"{panel.region}: after\n{panel.status}", fontsize=10, loc="left", parse_math=False)
        _legend(fig.add_subplot(grid[row, 2]), panel)
    fig.suptitle(title_lines(title, width=150), fontsize=11, x=0.02, ha="left", y=0.995, va="top", parse_math=False)
    fig.savefig(path, dpi=100, bbox_inches="tight", pad_inches=0.25)
    plt.close(fig)
    return path


def _shape(extent: tuple[float, float, float, float]) -> float:
    """Height over width of a panel on the ground."""
    lon0, lon1, lat0, lat1 = extent
    return (lat1 - lat0) / max((lon1 - lon0) * np.cos(np.radians((lat0 + lat1) / 2)), 1e-9)


def _draw_side(ax: object, panel: Panel, side: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    lon0, lon1, lat0, lat1 = panel.extent
    for kind, segments in outlines(panel.extent).items():
        width, colour = OUTLINE_STYLE[kind]
        for s in segments:
            ax.plot(s[:, 0], s[:, 1], lw=width, color=colour, zorder=1)
    palette = colours(panel)
    pts = panel.points
    size = 10 if len(pts) < 3_000 else 4
    c = pts[side].map(palette).fillna(UNOWNED)
    ax.scatter(pts["lon"], pts["lat"], s=size, c=c, alpha=0.85, linewidths=0, zorder=2)
    if side == "after":
        moved = pts[pts["moved"]]
        ax.scatter(
            moved["lon"], moved["lat"], s=size * 3, c=moved["after"].map(palette).fillna(UNOWNED),
            edgecolors="black", linewidths=0.6, zorder=4,
        )  # fmt: skip
        largest = max((f.value for f in panel.flows), default=0.0)
        for f in panel.flows:
            ax.annotate(
                "", xy=f.end, xytext=f.start, zorder=5,
                arrowprops={
                    "arrowstyle": "-|>", "lw": flow_width(f.value, largest), "color": palette.get(f.target, UNOWNED),
                    "alpha": 0.85, "shrinkA": 4, "shrinkB": 4, "connectionstyle": "arc3,rad=0.18",
                },
            )  # fmt: skip
    homes = panel.reps.dropna(subset=["home_lat", "home_lon"])
    ax.scatter(
        homes["home_lon"], homes["home_lat"], marker="*", s=110, c=homes["colour"],
        edgecolors="black", linewidths=0.7, zorder=6,
    )  # fmt: skip
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1 / np.cos(np.radians((lat0 + lat1) / 2)))
    ax.tick_params(labelsize=7)
    ax.set_facecolor("#f4f7fa")


def _legend(ax: object, panel: Panel) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.axis("off")
    y = 0.98

    def line(text: str, colour: str | None = None, bold: bool = False, size: float = 8.5) -> None:
        nonlocal y
        if colour:
            ax.scatter([0.02], [y - 0.012], s=60, c=colour, marker="s", transform=ax.transAxes, clip_on=False)
        ax.text(0.07 if colour else 0.0, y, text, fontsize=size, va="top", transform=ax.transAxes,
                fontweight="bold" if bold else "normal", parse_math=False)  # fmt: skip
        y -= 0.055

    line("Largest books: before -> after (of target)", bold=True)
    for r in panel.reps.head(LEGEND_REPS).itertuples():
        line(f"{r.name}  {fmt.money(r.book_before)} -> {fmt.money(r.book_after)} ({r.after:.0%})", r.colour)
    if len(panel.reps) > LEGEND_REPS:
        line(f"+ {len(panel.reps) - LEGEND_REPS} more reps", size=8)
    y -= 0.02
    who = names(panel)
    moved = panel.points["moved"].sum()
    line(f"Largest moves ({int(moved)} accounts move)", bold=True)
    for f in panel.flows[:5]:
        line(
            f"{who.get(f.source, 'no owner')} -> {who.get(f.target, f.target)}: {f.accounts}, {fmt.money(f.value)}",
            size=8,
        )
    if not panel.flows:
        line("none", size=8)
    y -= 0.02
    line("dots: accounts by owner; ringed: moved; stars: rep homes; arrows: moves, width by value", size=7.5)
