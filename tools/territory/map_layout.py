"""What a territory map shows, worked out once for both formats (PNG and HTML).

A plan is drawn per region (segments share the same ground), each panel zoomed to where its
accounts are rather than to the world. Reps get colours so that reps whose homes are near each
other never share one; the legend names the largest books; moves are summed into flows between
owners (from -> to, width by value) so a leader reads "who gives what to whom" instead of a
cloud of dots. The band status is put in words per panel.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.territory.report import outside_band

# Twenty colours that stay apart on white paper (tab20 without its greys, plus four dark ones).
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#393b79", "#637939",
]  # fmt: skip
UNOWNED = "#9a9a9a"
NEIGHBOURS = 8  # reps whose homes are this close (in rank) never share a colour
LEGEND_REPS = 10
MAX_FLOWS = 15
MAX_POINTS = 25_000  # per panel and side; moved accounts are always kept


@dataclass
class Flow:
    source: str  # rep id ("" when the accounts had no active owner)
    target: str
    accounts: int
    value: float
    start: tuple[float, float]  # lon, lat
    end: tuple[float, float]


@dataclass
class Panel:
    region: str
    extent: tuple[float, float, float, float]  # lon0, lon1, lat0, lat1
    points: pd.DataFrame  # account_id, name, lat, lon, before, after, value, moved
    reps: pd.DataFrame  # rep_id, name, home_lat, home_lon, colour, book_before, book_after, before, after
    flows: list[Flow]
    status: str  # the band in words


def layout(points: pd.DataFrame, reps: pd.DataFrame, band: float) -> list[Panel]:
    """points: account_id, name, lat, lon, before, after, value, region;
    reps: rep_id, name, home_lat, home_lon, region, before, after (load over target)."""
    points = points.dropna(subset=["lat", "lon"]).assign(moved=lambda p: p["before"].fillna("") != p["after"])
    panels = []
    for region, pts in points.groupby("region", sort=True):
        group_reps = reps[reps["region"] == region].reset_index(drop=True)
        group_reps = _books(group_reps, pts)
        group_reps["colour"] = rep_colours(group_reps)
        panels.append(
            Panel(
                region=str(region),
                extent=extent(pts),
                points=_thin(pts),
                reps=group_reps,
                flows=flows(pts, group_reps),
                status=status_words(group_reps, band),
            )
        )
    return panels


def _books(reps: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    before = points.groupby("before")["value"].sum()
    after = points.groupby("after")["value"].sum()
    return reps.assign(
        book_before=reps["rep_id"].map(before).fillna(0.0), book_after=reps["rep_id"].map(after).fillna(0.0)
    ).sort_values(["book_after", "rep_id"], ascending=[False, True], ignore_index=True)


def rep_colours(reps: pd.DataFrame) -> list[str]:
    """Colours per rep (reps sorted largest book first). Up to len(PALETTE) reps each get their
    own. Beyond that the legend's reps still get distinct colours, and every other rep takes the
    least-used colour that none of its nearest reps (by home) has."""
    n = len(reps)
    if n <= len(PALETTE):
        return PALETTE[:n]
    chosen: list[str | None] = [None] * n
    used = dict.fromkeys(PALETTE, 0)
    home = reps[["home_lat", "home_lon"]].to_numpy(dtype=float)
    known = ~np.isnan(home).any(axis=1)
    for i in range(n):
        if i < LEGEND_REPS:
            free = [PALETTE[i]]
        elif not known[i]:
            free = PALETTE
        else:
            d = np.hypot(home[:, 0] - home[i, 0], (home[:, 1] - home[i, 1]) * np.cos(np.radians(home[i, 0])))
            d[~known] = np.inf
            d[i] = np.inf
            taken = {chosen[j] for j in np.argsort(d)[:NEIGHBOURS]}
            free = [c for c in PALETTE if c not in taken] or PALETTE
        pick = min(free, key=lambda c: used[c])
        used[pick] += 1
        chosen[i] = pick
    return [c or UNOWNED for c in chosen]


def extent(points: pd.DataFrame) -> tuple[float, float, float, float]:
    """The box holding the accounts (2nd to 98th percentile, so one stray address does not zoom
    the map out to the world), padded, and widened so a degree of longitude looks its true size."""
    lon0, lon1 = (
        np.percentile(points["lon"], [2, 98]) if len(points) > 50 else (points["lon"].min(), points["lon"].max())
    )
    lat0, lat1 = (
        np.percentile(points["lat"], [2, 98]) if len(points) > 50 else (points["lat"].min(), points["lat"].max())
    )
    pad_lon, pad_lat = max((lon1 - lon0) * 0.08, 0.5), max((lat1 - lat0) * 0.08, 0.5)
    lon0, lon1, lat0, lat1 = lon0 - pad_lon, lon1 + pad_lon, lat0 - pad_lat, lat1 + pad_lat
    # Keep the panel no narrower than 4:3 on the ground, so compact regions are not slivers.
    squash = np.cos(np.radians((lat0 + lat1) / 2))
    width, height = (lon1 - lon0) * squash, lat1 - lat0
    if width < height * 4 / 3:
        grow = (height * 4 / 3 / squash - (lon1 - lon0)) / 2
        lon0, lon1 = lon0 - grow, lon1 + grow
    return (
        float(max(lon0, -180.0)),
        float(min(lon1, 180.0)),
        float(max(lat0, -85.0)),
        float(min(lat1, 85.0)),
    )


def flows(points: pd.DataFrame, reps: pd.DataFrame) -> list[Flow]:
    """Moved accounts summed per (from, to) owner pair, the largest first, drawn home to home
    (from where the accounts are when an owner has no home on file)."""
    moved = points[points["moved"]]
    if moved.empty:
        return []
    homes = {r.rep_id: (r.home_lon, r.home_lat) for r in reps.itertuples() if pd.notna(r.home_lat)}
    out = []
    for (src, dst), acc in moved.groupby([moved["before"].fillna(""), "after"], sort=False):
        centre = (float(acc["lon"].mean()), float(acc["lat"].mean()))
        start = homes.get(src, centre)
        end = homes.get(dst, centre)
        out.append(Flow(str(src), str(dst), len(acc), float(acc["value"].sum()), start, end))
    out.sort(key=lambda f: (-f.value, f.source, f.target))
    return out[:MAX_FLOWS]


def status_words(reps: pd.DataFrame, band: float) -> str:
    n = len(reps)
    before, after = (int(outside_band(reps[col].to_numpy(), band).sum()) for col in ("before", "after"))
    if after == 0:
        return f"In band: all {n} reps within ±{band:.0%} of target (was {before} outside)"
    gap = (reps["after"] - 1).to_numpy(dtype=float)
    worst = float(gap[np.argmax(np.abs(gap))])
    return f"Out of band: {after} of {n} reps outside ±{band:.0%} (was {before}); the farthest is {worst:+.1%}"


def title_lines(title: str, width: int = 110, lines: int = 3) -> str:
    """The plan's summary wrapped to fit the page, never cut mid-word."""
    return "\n".join(textwrap.wrap(title, width=width, max_lines=lines, placeholder=" …"))


def _thin(points: pd.DataFrame) -> pd.DataFrame:
    if len(points) <= MAX_POINTS:
        return points
    moved, kept = points[points["moved"]], points[~points["moved"]]
    step = int(np.ceil(len(kept) / max(MAX_POINTS - len(moved), 1)))
    return pd.concat([kept.sort_values(["after", "account_id"]).iloc[::step], moved])
