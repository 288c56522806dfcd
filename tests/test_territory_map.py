"""Territory maps: the layout both formats share (panels, colours, flows, status in words) and
the two files a leader opens (PNG and HTML), rendered from a real plan on the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tools.territory.map_layout import (
    LEGEND_REPS,
    MAX_FLOWS,
    NEIGHBOURS,
    PALETTE,
    layout,
    rep_colours,
    status_words,
    title_lines,
)
from tools.territory.models import TerritoryInput
from tools.territory.outlines import outlines
from tools.territory.tool import run_territory
from warehouse.connection import Warehouse


def _plan(reps_per_region: int = 6, accounts: int = 400, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = {"EMEA": (48.0, 8.0), "NA": (39.0, -95.0)}
    reps, points = [], []
    for region, (lat, lon) in centres.items():
        ids = [f"{region}-{i}" for i in range(reps_per_region)]
        reps.append(
            pd.DataFrame(
                {
                    "rep_id": ids,
                    "name": [f"Rep {i}" for i in ids],
                    "home_lat": lat + rng.normal(0, 4, reps_per_region),
                    "home_lon": lon + rng.normal(0, 8, reps_per_region),
                    "region": region,
                    "before": rng.uniform(0.6, 1.4, reps_per_region),
                    "after": rng.uniform(0.97, 1.03, reps_per_region),
                }
            )
        )
        before = rng.choice(ids, accounts)
        after = np.where(rng.random(accounts) < 0.1, rng.choice(ids, accounts), before)
        points.append(
            pd.DataFrame(
                {
                    "account_id": [f"{region}-A{i}" for i in range(accounts)],
                    "name": [f"Account {i}" for i in range(accounts)],
                    "lat": lat + rng.normal(0, 5, accounts),
                    "lon": lon + rng.normal(0, 10, accounts),
                    "before": before,
                    "after": after,
                    "value": rng.lognormal(12, 1, accounts),
                    "region": region,
                }
            )
        )
    return pd.concat(points, ignore_index=True), pd.concat(reps, ignore_index=True)


def test_one_panel_per_region_zoomed_to_its_accounts() -> None:
    points, reps = _plan()
    panels = layout(points, reps, band=0.05)
    assert [p.region for p in panels] == ["EMEA", "NA"]
    for p in panels:
        lon0, lon1, lat0, lat1 = p.extent
        own = points[points["region"] == p.region]
        inside = own["lon"].between(lon0, lon1) & own["lat"].between(lat0, lat1)
        assert inside.mean() >= 0.96  # the box holds the accounts...
        assert lon1 - lon0 < 120 and lat1 - lat0 < 60  # ...and is not the world
        assert p.reps["book_after"].is_monotonic_decreasing  # the legend lists the largest books first
        assert p.reps["book_after"].sum() == pytest.approx(own["value"].sum())


def test_flows_sum_the_moves_from_giver_to_receiver() -> None:
    points, reps = _plan(reps_per_region=3)
    panel = layout(points, reps, band=0.05)[0]
    own = points[points["region"] == "EMEA"]
    moved = own[own["before"] != own["after"]]
    assert len(panel.flows) <= MAX_FLOWS
    pairs = moved.groupby(["before", "after"])["value"].agg(["size", "sum"])
    assert len(pairs) <= MAX_FLOWS  # three reps: at most six pairs, all drawn
    assert sum(f.accounts for f in panel.flows) == len(moved)
    assert [f.value for f in panel.flows] == sorted((f.value for f in panel.flows), reverse=True)
    homes = {r.rep_id: (r.home_lon, r.home_lat) for r in panel.reps.itertuples()}
    for f in panel.flows:
        assert f.accounts == pairs.loc[(f.source, f.target), "size"]
        assert f.value == pytest.approx(pairs.loc[(f.source, f.target), "sum"])
        assert f.start == homes[f.source] and f.end == homes[f.target]


def test_colours_tell_neighbours_and_the_legend_apart() -> None:
    few = _plan(reps_per_region=12)[1].iloc[:12]
    assert len(set(rep_colours(few))) == 12
    rng = np.random.default_rng(0)
    many = pd.DataFrame({"home_lat": rng.uniform(30, 50, 60), "home_lon": rng.uniform(-120, -70, 60)})
    colours = rep_colours(many)
    assert len(set(colours[:LEGEND_REPS])) == LEGEND_REPS
    assert set(colours) <= set(PALETTE)
    home = many.to_numpy()
    for i in range(LEGEND_REPS, len(many)):
        d = np.hypot(home[:, 0] - home[i, 0], (home[:, 1] - home[i, 1]) * np.cos(np.radians(home[i, 0])))
        d[i] = np.inf
        near = np.argsort(d)[:NEIGHBOURS]
        assert colours[i] not in {colours[j] for j in near if j < i}, i  # no earlier near rep shares it


def test_status_and_title_in_words() -> None:
    reps = pd.DataFrame({"before": [0.7, 1.0, 1.3], "after": [0.99, 1.0, 1.0001]})
    assert status_words(reps, 0.05) == "In band: all 3 reps within ±5% of target (was 2 outside)"
    reps["after"] = [0.9, 1.0, 1.12]
    assert status_words(reps, 0.05) == "Out of band: 2 of 3 reps outside ±5% (was 2); the farthest is +12.0%"
    long = "Rebalancing 1,512 accounts across 37 reps (11 groups) on potential: " * 5
    wrapped = title_lines(long, width=110)
    assert len(wrapped.splitlines()) == 3 and all(len(line) <= 110 for line in wrapped.splitlines())
    assert wrapped.endswith("…") and "Rebalancing" in wrapped


def test_outlines_are_real_borders_inside_the_panel() -> None:
    europe = outlines((-10.0, 30.0, 35.0, 60.0))
    assert len(europe["country"]) > 30 and len(europe["coast"]) > 10
    usa = outlines((-125.0, -66.0, 24.0, 50.0))
    assert len(usa["state"]) > 40  # the lower 48's state lines
    for segment in usa["state"]:
        assert segment.shape[1] == 2
        assert (segment[:, 0] >= -125.5).all() and (segment[:, 0] <= -65.5).all()


def test_png_and_html_maps_of_a_demo_plan(demo: Warehouse, tmp_path: Path) -> None:
    params = TerritoryInput(filters={"region": ["APAC", "LATAM"]}, band=0.05)
    png, html = tmp_path / "plan.png", tmp_path / "plan.html"
    result = run_territory(demo, params, map_path=str(png))
    assert result.metrics["map"] == str(png)
    image = Image.open(png)
    assert image.width > 1500 and image.height > 900  # two regions, one row each
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(np.unique(pixels[::50], axis=0)) > 30  # outlines, rep colours, arrows: not an empty canvas
    run_territory(demo, params, map_path=str(html))
    page = html.read_text()
    for text in ('"label":"After"', '"label":"Before"', "APAC: In band", "LATAM: ", "from %{customdata[2]}"):
        assert text in page, text


def test_pareto_chart_merges_caps_that_give_the_same_plan(tmp_path: Path) -> None:
    from tools.territory.pareto_chart import save_pareto_chart

    def row(cap: float | None, moved: float, outside: int, worst: float) -> dict[str, object]:
        return {"cap": cap, "moved_share": moved, "reps_outside_band": outside, "worst_deviation": worst,
                "accounts_moved": 10}  # fmt: skip

    rows = [row(0.01, 0.008, 9, 0.45), row(0.1, 0.07, 0, 0.05), row(0.2, 0.07, 0, 0.05), row(None, 0.07, 0, 0.05)]
    html = save_pareto_chart(rows, tmp_path / "t.html", 0.05, "EMEA")
    page = html.read_text()
    assert "cap 10%, cap 20%, meets band" in page and "cap 1%" in page and "EMEA: balance vs disruption" in page
    png = save_pareto_chart(rows, tmp_path / "t.png", 0.05, "EMEA")
    assert Image.open(png).width >= 900


def test_cli_pareto_chart_and_a_bad_path_refused_before_solving(demo_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interfaces.cli import app

    chart = tmp_path / "tradeoff.png"
    args = ["-w", str(demo_path), "territory", "rebalance", "--filter", "region=LATAM"]
    result = CliRunner().invoke(app, [*args, "--pareto-chart", str(chart), "--json"])
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["metrics"]["pareto_chart"] == str(chart) and data["tables"]["pareto"]  # implies --pareto auto
    assert Image.open(chart).height > 400
    bad = CliRunner().invoke(app, [*args, "--pareto-chart", str(tmp_path / "t.pdf")])
    assert bad.exit_code != 0 and "Give a .png or .html path" in bad.stderr and "Groups" not in bad.stdout
