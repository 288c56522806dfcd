"""Why a band cannot be met in a group, as typed findings the report and the advice both read.

Three things make a band impossible on their own: a unit too big for the band (one ZIP holding
more than twice the band's width of an average rep's load), locked accounts that alone put a
rep above the band, and more accounts than the reps may own (--max-accounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.territory.groups import Group
from tools.territory.models import TerritoryInput

Kind = Literal["band", "big_unit", "locked", "no_room"]
BIG_UNITS_SHOWN = 3


@dataclass(frozen=True)
class Blocker:
    kind: Kind
    group: str  # "NA Enterprise"
    reason: str  # the finding, a sentence
    action: str  # what to do about it ("" when the finding is the headline)
    rep_id: str | None = None
    share: float | None = None  # the load as a share of an average rep's (big units) or of the rep's target

    def text(self) -> str:
        return f"{self.group}: {self.reason}"


def blockers(groups: list[Group], params: TerritoryInput) -> list[Blocker]:
    out: list[Blocker] = []
    for g in groups:
        if g.solution.status != "infeasible":
            continue
        label = " ".join(str(k) for k in g.key)
        bound = "" if g.tightest is None else f"; no plan can do better than +-{g.tightest:.1%}"
        out.append(
            Blocker(
                "band",
                label,
                f"+-{params.band:.0%} cannot be met; the closest plan keeps every rep within +-{g.solved_band:.1%}{bound}.",
                "",
            )
        )
        p = g.problem
        _, hi = p.bounds()
        for k, metric in enumerate(params.balance_on):
            average = p.targets[:, k].mean()
            big = np.flatnonzero(p.loads[:, k] > 2 * params.band * average)
            if len(big):
                shares = sorted((float(p.loads[u, k] / average) for u in big), reverse=True)
                held = _held(shares, params.unit)
                fix = (
                    f"Widen the band in {label}"
                    if params.unit == "account"
                    else f"Rebalance {label} by account instead of by {params.unit}, or widen the band"
                )
                out.append(
                    Blocker(
                        "big_unit",
                        label,
                        f"{held} of an average rep's {metric}, wider than the band.",
                        f"{fix}: {held} of an average rep's {metric}, more than a +-{params.band:.0%} band can absorb.",
                        share=shares[0],
                    )
                )
            base = np.zeros(p.reps)
            fixed = g.locked_units
            np.add.at(base, p.fixed[fixed], p.loads[fixed, k])
            for r in np.flatnonzero(base > hi[:, k]):
                rep = str(g.reps["rep_id"].iloc[r])
                share = float(base[r] / p.targets[r, k])
                out.append(
                    Blocker(
                        "locked",
                        label,
                        f"locked accounts alone give {rep} {share:.0%} of its {metric} target.",
                        f"Unlock some of {rep}'s locked accounts in {label}: they alone give it {share:.0%} of its "
                        f"{metric} target.",
                        rep_id=rep,
                        share=share,
                    )
                )
        if p.max_count is not None and p.counts is not None and p.counts.sum() > p.max_count.sum():
            out.append(
                Blocker(
                    "no_room",
                    label,
                    f"{int(p.counts.sum())} accounts but only room for {int(p.max_count.sum())} at --max-accounts.",
                    "",
                )
            )
    return out


def _held(shares: list[float], unit: str) -> str:
    """'one account holds 26%', '2 accounts hold 26% and 23%', '5 accounts hold 26%, 23%, 22% and more'."""
    if len(shares) == 1:
        return f"one {unit} holds {shares[0]:.0%}"
    shown = [f"{v:.0%}" for v in shares[:BIG_UNITS_SHOWN]]
    listed = (
        ", ".join(shown[:-1]) + " and " + shown[-1]
        if len(shares) <= BIG_UNITS_SHOWN
        else ", ".join(shown) + " and more"
    )
    return f"{len(shares)} {unit}s hold {listed}"
