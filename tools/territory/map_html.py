"""The interactive territory map: one zoomed map per region, buttons to switch before / after.

plotly with its JavaScript embedded (the page opens offline); the outlines are drawn as line
traces from outlines.py, since plotly's own geo maps fetch their outlines from a CDN. Hovering an
account shows its name, id, owner before and after and its value; hovering an arrow shows the
accounts and value it carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tools.core import format as fmt
from tools.territory.map import OUTLINE_STYLE, colours, flow_width, names
from tools.territory.map_layout import LEGEND_REPS, UNOWNED, Panel, title_lines
from tools.territory.outlines import outlines

PANEL_HEIGHT = 620


def save_html(panels: list[Panel], path: Path, title: str) -> Path:
    figure(panels, title).write_html(path, include_plotlyjs=True, full_html=True)
    return path


def figure(panels: list[Panel], title: str) -> Any:
    """The page's plotly figure: the After view shown, the Before button swapping the dots."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=len(panels), cols=1, subplot_titles=[f"{p.region}: {p.status}" for p in panels], vertical_spacing=0.06
    )
    sides: list[str] = []  # per trace: "both", "before" or "after"
    for row, panel in enumerate(panels, start=1):
        for trace, side in _traces(panel, row):
            fig.add_trace(trace, row=row, col=1)
            sides.append(side)
        lon0, lon1, lat0, lat1 = panel.extent
        axis = "" if row == 1 else str(row)
        fig.update_xaxes(range=[lon0, lon1], row=row, col=1, showgrid=False, zeroline=False)
        fig.update_yaxes(
            range=[lat0, lat1], row=row, col=1, showgrid=False, zeroline=False,
            scaleanchor=f"x{axis}", scaleratio=1 / np.cos(np.radians((lat0 + lat1) / 2)),
        )  # fmt: skip

    def shown(side: str) -> list[bool]:
        return [s in ("both", side) for s in sides]

    fig.update_layout(
        title={"text": title_lines(title, width=140).replace("\n", "<br>"), "font": {"size": 13}, "x": 0.01},
        height=PANEL_HEIGHT * len(panels) + 160,
        margin={"t": 130},
        plot_bgcolor="#f4f7fa",
        legend={"title": {"text": "Largest books: before -> after (of target)"}, "font": {"size": 11}},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0.0,
                "y": 1.0,
                "xanchor": "left",
                "yanchor": "bottom",
                "pad": {"b": 8},
                "buttons": [
                    {"label": "After", "method": "restyle", "args": [{"visible": shown("after")}]},
                    {"label": "Before", "method": "restyle", "args": [{"visible": shown("before")}]},
                ],
            }
        ],
    )
    for trace, visible in zip(fig.data, shown("after"), strict=True):
        trace.visible = visible
    return fig


def _traces(panel: Panel, row: int) -> list[tuple[Any, str]]:
    import plotly.graph_objects as go

    out: list[tuple[Any, str]] = []
    for kind, segments in outlines(panel.extent).items():
        if not segments:
            continue
        width, colour = OUTLINE_STYLE[kind]
        xs = np.concatenate([np.append(s[:, 0], np.nan) for s in segments])
        ys = np.concatenate([np.append(s[:, 1], np.nan) for s in segments])
        line = go.Scattergl(x=xs, y=ys, mode="lines", line={"width": width * 1.4, "color": colour},
                            hoverinfo="skip", showlegend=False)  # fmt: skip
        out.append((line, "both"))
    who, palette = names(panel), colours(panel)
    pts = panel.points
    custom = np.column_stack(
        [
            pts["name"].fillna(""),
            pts["account_id"],
            pts["before"].map(who).fillna(pts["before"]).fillna("no owner"),
            pts["after"].map(who).fillna(pts["after"]),
            [fmt.money(v) for v in pts["value"]],
        ]
    )
    hover = "%{customdata[0]} (%{customdata[1]})<br>from %{customdata[2]}<br>to %{customdata[3]}<br>%{customdata[4]}<extra></extra>"
    for side in ("before", "after"):
        out.append(
            (
                go.Scattergl(
                    x=pts["lon"], y=pts["lat"], mode="markers", customdata=custom, hovertemplate=hover,
                    marker={"size": 6, "color": pts[side].map(palette).fillna(UNOWNED).tolist(),
                            "line": {"width": np.where(pts["moved"], 1.2, 0) if side == "after" else 0, "color": "black"}},
                    showlegend=False, name=f"{panel.region} accounts {side}",
                ),
                side,
            )
        )  # fmt: skip
    largest = max((f.value for f in panel.flows), default=0.0)
    for f in panel.flows:
        text = f"{who.get(f.source, 'no owner')} -> {who.get(f.target, f.target)}: {f.accounts} accounts, {fmt.money(f.value)}"
        arrow = go.Scatter(
            x=[f.start[0], f.end[0]], y=[f.start[1], f.end[1]], mode="lines+markers",
            line={"width": flow_width(f.value, largest), "color": palette.get(f.target, UNOWNED)},
            marker={"symbol": ["circle", "arrow"], "size": [4, 14], "angleref": "previous"},
            hovertext=text, hoverinfo="text", opacity=0.85, showlegend=False, name=text,
        )  # fmt: skip
        out.append((arrow, "after"))
    homes = panel.reps.dropna(subset=["home_lat", "home_lon"])
    out.append(
        (
            go.Scatter(
                x=homes["home_lon"], y=homes["home_lat"], mode="markers",
                marker={"symbol": "star", "size": 13, "color": homes["colour"].tolist(), "line": {"width": 1, "color": "black"}},
                hovertext=homes["name"] + " (" + homes["rep_id"] + "), home", hoverinfo="text", showlegend=False,
                name=f"{panel.region} rep homes",
            ),
            "both",
        )
    )  # fmt: skip
    for r in panel.reps.head(LEGEND_REPS).itertuples():
        entry = go.Scatter(
            x=[None], y=[None], mode="markers", marker={"symbol": "square", "size": 11, "color": r.colour},
            name=f"{panel.region}: {r.name} {fmt.money(r.book_before)} -> {fmt.money(r.book_after)} ({r.after:.0%})",
            legendgroup=f"row{row}",
        )  # fmt: skip
        out.append((entry, "both"))
    return out
