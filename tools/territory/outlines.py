"""Coastlines, country borders and state/province borders for a map panel, offline.

The outlines come from basemap's data package (GSHHS coastlines and political boundaries shipped
in the wheel), read through basemap itself on a plain longitude/latitude projection, so a PNG and
an HTML page draw the same lines and nothing is fetched from a tile server.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

KINDS = ("coast", "country", "state")


def resolution(extent: tuple[float, float, float, float]) -> str:
    """Basemap's detail level: crude for a continent, intermediate for a country or smaller."""
    span = max(extent[1] - extent[0], extent[3] - extent[2])
    return "c" if span > 90 else "l" if span > 25 else "i"


@lru_cache(maxsize=32)
def outlines(extent: tuple[float, float, float, float]) -> dict[str, list[np.ndarray]]:
    """Per kind, the line segments inside the extent as [n, 2] arrays of (lon, lat)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        # basemap's compiled part was built against an older numpy ABI header; numpy says so, harmlessly.
        warnings.filterwarnings("ignore", "numpy.ndarray size changed", RuntimeWarning)
        from mpl_toolkits.basemap import Basemap

    lon0, lon1, lat0, lat1 = extent
    m = Basemap(
        projection="cyl",
        llcrnrlon=lon0,
        urcrnrlon=lon1,
        llcrnrlat=lat0,
        urcrnrlat=lat1,
        resolution=resolution(extent),
        fix_aspect=False,
    )
    fig, ax = plt.subplots()
    try:
        drawn = {
            "coast": m.drawcoastlines(ax=ax),
            "country": m.drawcountries(ax=ax),
            "state": m.drawstates(ax=ax),
        }
        return {kind: [np.asarray(s, dtype=float) for s in lines.get_segments()] for kind, lines in drawn.items()}
    finally:
        plt.close(fig)
