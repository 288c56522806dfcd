"""Series hierarchies: total -> first dimension -> first x second dimension ...

`--by region,segment` gives the levels total, region, region x segment; the summing matrix S
maps the bottom series to every series, so `S @ bottom` is coherent by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

TOTAL = "total"


@dataclass(frozen=True)
class Node:
    id: str
    level: int  # 0 = total, k = the first k dimensions
    keys: tuple[tuple[str, str], ...]  # ((dim, value), ...)

    @property
    def group(self) -> dict[str, str]:
        return dict(self.keys)


@dataclass
class Hierarchy:
    dims: list[str]
    nodes: list[Node]  # parents before children
    bottom: list[int]  # node indices of the bottom series, in S column order
    S: np.ndarray  # [nodes, bottom] 0/1

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def level_name(self, level: int) -> str:
        return TOTAL if level == 0 else "/".join(self.dims[:level])

    def tags(self) -> dict[str, np.ndarray]:
        out: dict[str, list[str]] = {}
        for node in self.nodes:
            out.setdefault(self.level_name(node.level), []).append(node.id)
        return {k: np.asarray(v) for k, v in out.items()}

    def s_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.S, columns=[self.nodes[i].id for i in self.bottom])
        frame.insert(0, "unique_id", self.ids)
        return frame

    def aggregate(self, bottom_values: np.ndarray) -> np.ndarray:
        """Every series from the bottom series: [bottom, ...] -> [nodes, ...]."""
        return np.tensordot(self.S, bottom_values, axes=(1, 0))


def node_id(keys: tuple[tuple[str, str], ...]) -> str:
    return TOTAL if not keys else "|".join(f"{d}={v}" for d, v in keys)


def build_hierarchy(dims: Sequence[str], bottom_keys: Sequence[tuple[str, ...]]) -> Hierarchy:
    """Hierarchy over the given bottom combinations (each a tuple of values for `dims`)."""
    bottom_keys = sorted(set(bottom_keys))
    levels: list[list[tuple[tuple[str, str], ...]]] = [[()]]
    for depth in range(1, len(dims) + 1):
        seen = sorted({tuple(zip(dims[:depth], key[:depth], strict=True)) for key in bottom_keys})
        levels.append(seen)
    nodes = [Node(node_id(keys), depth, keys) for depth, group in enumerate(levels) for keys in group]
    index = {n.id: i for i, n in enumerate(nodes)}
    bottom = [index[node_id(tuple(zip(dims, key, strict=True)))] for key in bottom_keys]
    S = np.zeros((len(nodes), len(bottom)))
    for j, key in enumerate(bottom_keys):
        for depth in range(len(dims) + 1):
            S[index[node_id(tuple(zip(dims[:depth], key[:depth], strict=True)))], j] = 1.0
    return Hierarchy(dims=list(dims), nodes=nodes, bottom=bottom, S=S)
