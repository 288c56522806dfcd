"""What a forecast is made of: region x segment cells, and the atoms a request slices them into.

The company's forecast is the sum of its region x segment cells, each forecast from its own
bookings and pipeline only. That is what makes one number possible: a slice, a breakdown and a
scope are all sums of cells, so EMEA next quarter has one value whether asked by region,
filtered to EMEA, or by the EMEA leader (whose scope is those cells), and the total is the
same by region, by segment, by product or by rep. (Any forecast of a cell that used another
cell's data, as reconciling across the whole hierarchy does, would give the EMEA leader a
number built from data outside their scope, or another number than the admin's.)

Below a cell, a breakdown by product or rep splits it into atoms. An atom's booked-to-date and
open pipeline are its own; its share of the cell's run-rate forecast is its share of the
cell's bookings over the last year (a season of periods). A rep who is no longer in seat gets
no run-rate: that share goes to the cell's `(unassigned)` atom, so atoms always add up to
their cell. Rep and manager filters (and team or own scopes) select the data itself: a team's
forecast is made from the team's own history, cell by cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.core.hierarchy import Hierarchy, build_hierarchy

CELL_DIMS = ("region", "segment")
SUB_DIMS = ("product", "rep")
UNASSIGNED = "(unassigned)"


def atom_dims(by: Sequence[str], filters: dict[str, list[str]]) -> tuple[str, ...]:
    """Cells, plus product when asked for or filtered on, plus rep when broken down by rep."""
    extra = [d for d in SUB_DIMS if d in by or (d == "product" and d in filters)]
    return (*CELL_DIMS, *extra)


@dataclass(frozen=True)
class Atoms:
    dims: tuple[str, ...]
    keys: list[tuple[str, ...]]  # sorted; the first two values are the cell
    cells: list[tuple[str, str]]  # sorted
    cell_of: np.ndarray  # [atoms] -> cell index

    @classmethod
    def of(cls, dims: tuple[str, ...], frames: Sequence[pd.DataFrame]) -> Atoms:
        keys: set[tuple[str, ...]] = set()
        for frame in frames:
            if len(frame):
                keys |= set(zip(*(frame[d].astype(str) for d in dims), strict=True))
        if "rep" in dims:  # where the run-rate of reps no longer in seat goes
            keys |= {(*k[:-1], UNASSIGNED) for k in keys}
        ordered = sorted(keys)
        cells = sorted({k[:2] for k in ordered})
        index = {c: i for i, c in enumerate(cells)}
        cell_of = np.array([index[k[:2]] for k in ordered], dtype=np.int64)
        return cls(dims, ordered, cells, cell_of)  # type: ignore[arg-type]

    @property
    def n(self) -> int:
        return len(self.keys)

    def index(self, frame: pd.DataFrame) -> np.ndarray:
        """Atom index of each row of `frame` (which has a column per dimension)."""
        if frame.empty:
            return np.zeros(0, dtype=np.int64)
        position = {k: i for i, k in enumerate(self.keys)}
        rows = zip(*(frame[d].astype(str) for d in self.dims), strict=True)
        return np.fromiter((position[k] for k in rows), dtype=np.int64, count=len(frame))

    def cell_matrix(self) -> np.ndarray:
        """[cells, atoms] 0/1."""
        out = np.zeros((len(self.cells), self.n))
        out[self.cell_of, np.arange(self.n)] = 1.0
        return out

    def value(self, atom: int, dim: str) -> str:
        return self.keys[atom][self.dims.index(dim)]


def shares(history: np.ndarray, atoms: Atoms, window: int, eligible: np.ndarray | None = None) -> np.ndarray:
    """[atoms, T+1]: each atom's share of its cell's run-rate, as known at the end of each period.

    Column t uses the `window` periods before t (column T is the forecast's, column t < T a
    backtest origin's). `eligible` [atoms] (reps in seat) applies to the last column only: the
    share of an atom that is not eligible moves to its cell's `(unassigned)` atom.
    """
    n_atoms, periods = history.shape
    cum = np.concatenate([np.zeros((n_atoms, 1)), np.cumsum(history, axis=1)], axis=1)
    out = np.zeros((n_atoms, periods + 1))
    cells = atoms.cell_matrix()
    sizes = cells.sum(axis=1)
    for t in range(periods + 1):
        w = cum[:, t] - cum[:, max(t - window, 0)]
        cell_total = cells @ w
        equal = 1.0 / np.maximum(sizes[atoms.cell_of], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, t] = np.where(cell_total[atoms.cell_of] > 0, w / cell_total[atoms.cell_of], equal)
    if eligible is not None and "rep" in atoms.dims:
        last = out[:, -1].copy()
        moved = np.where(eligible, 0.0, last)
        last = np.where(eligible, last, 0.0)
        home = {k[:-1]: i for i, k in enumerate(atoms.keys) if k[-1] == UNASSIGNED}
        for a, amount in enumerate(moved):
            if amount:
                last[home[atoms.keys[a][:-1]]] += amount
        out[:, -1] = last
    return out


@dataclass(frozen=True)
class Request:
    """The series a request shows: a hierarchy over its breakdown, each node a sum of atoms."""

    hierarchy: Hierarchy
    members: np.ndarray  # [nodes, atoms] 0/1
    cells: np.ndarray  # [nodes, cells] 1 where the node holds any part of the cell


def request(atoms: Atoms, by: Sequence[str], product_filter: Sequence[str] | None) -> Request:
    """Nodes for the breakdown `by` over the atoms inside the product filter (if any)."""
    selected = np.ones(atoms.n, dtype=bool)
    if product_filter:
        allowed = set(product_filter)
        selected = np.array([atoms.value(a, "product") in allowed for a in range(atoms.n)], dtype=bool)
    chosen = [int(a) for a in np.flatnonzero(selected)]
    bottom: list[tuple[str, ...]] = sorted({tuple(atoms.value(a, d) for d in by) for a in chosen}) or [()]
    hierarchy = build_hierarchy(list(by), bottom)
    members = np.zeros((len(hierarchy.nodes), atoms.n))
    for a in chosen:
        for i, node in enumerate(hierarchy.nodes):
            if all(atoms.value(a, d) == v for d, v in node.keys):
                members[i, a] = 1.0
    touched = (members @ atoms.cell_matrix().T) > 0
    return Request(hierarchy, members, touched.astype(float))


def series_key(values: np.ndarray) -> int:
    """A seed from a series' history (to the cent): the same slice of data draws the same numbers,
    whichever request it appears in."""
    import hashlib

    digest = hashlib.blake2b(np.round(np.asarray(values, dtype=float), 2).tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF
