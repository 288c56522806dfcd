"""Pipeline movement between two dates: each open deal as it stood at the start and at the end,
and the flow that carries one pipeline into the other.

A deal is *in the pipeline* on a day when, as it stood at the end of that day, its stage is open
and (when a close window is given, e.g. this quarter) its close date falls in the window. Every
deal in the pipeline at either date gets exactly one flow:

* in both: `amount_up` / `amount_down` by the change of its amount (none when unchanged);
* only at the end: `new` (created after the start date), `pulled_in` (open at the start with a
  close date outside the window, moved into it) or `reopened` (closed at the start);
* only at the start: `won` / `lost` (closed by the end), or `pushed_out` (still open, its close
  date moved out of the window; later, or in the rare case earlier).

Entries count at their end amount, exits at their start amount, changes by their difference, so
the flows reconcile exactly: start + new + pulled_in + reopened + amount_up - amount_down -
pushed_out - won - lost = end (`reconcile`, tested). A won deal's figure is therefore the amount
the pipeline lost, which differs from the booking when the amount changed on closing.

Stage moves are reported beside the flows (deals in both whose stage changed, forward or back);
they move no value in or out.

A deal's state on a day comes from `opportunity_history` (its last change on or before that day;
before its first recorded change, that first state). A deal the history does not cover is taken
as it stands now, open until its close date when it is closed now (`Movement.without_history`
counts them, so the tool can say how much of the figure rests on that assumption).

Pure: pandas in, dataclasses and frames out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

# Flow -> its sign in the pipeline's change (entries and increases +, exits and cuts -).
FLOWS: dict[str, int] = {
    "new": 1,
    "pulled_in": 1,
    "reopened": 1,
    "amount_up": 1,
    "amount_down": -1,
    "pushed_out": -1,
    "won": -1,
    "lost": -1,
}
FLOW_LABELS: dict[str, str] = {
    "new": "New",
    "pulled_in": "Pulled in",
    "reopened": "Reopened",
    "amount_up": "Amount up",
    "amount_down": "Amount down",
    "pushed_out": "Pushed out",
    "won": "Won",
    "lost": "Lost",
}
UNKNOWN_STAGE = "(open, stage unknown)"
STATE_COLUMNS = ("stage", "amount", "close_date")


@dataclass(frozen=True)
class CloseWindow:
    """Close dates from `start` (inclusive) to `stop` (exclusive), e.g. a fiscal quarter."""

    start: date
    stop: date
    name: str


@dataclass(frozen=True)
class Movement:
    """The flows of one selection of deals between two dates."""

    start_day: date
    end_day: date
    window: CloseWindow | None
    deals: pd.DataFrame  # one row per deal in the pipeline at either date: opp_id, dims, flow, start/end state
    without_history: int  # deals in `deals` whose states were not recorded (taken as they stand now)

    def totals(self) -> dict[str, float]:
        """start, each flow (unsigned), end: the waterfall's bars."""
        return totals(self.deals)


def states(deals: pd.DataFrame, history: pd.DataFrame, day: date, closed_stages: Iterable[str]) -> pd.DataFrame:
    """Every deal created on or before `day` as it stood at the end of it: opp_id, stage, amount,
    close_date, is_open. `deals`: opp_id, created_date and the current stage, amount, close_date;
    `history`: opp_id, seq, changed_date and the state columns."""
    closed = set(closed_stages)
    stamp = pd.Timestamp(day)
    born = deals[pd.to_datetime(deals["created_date"]) <= stamp]
    h = history[history["opp_id"].isin(born["opp_id"])].sort_values(["opp_id", "changed_date", "seq"])
    changed = pd.to_datetime(h["changed_date"])
    last = h[changed <= stamp].groupby("opp_id", sort=False).tail(1)
    first = h[~h["opp_id"].isin(last["opp_id"])].groupby("opp_id", sort=False).head(1)
    recorded = pd.concat([last, first], ignore_index=True)
    out = recorded[["opp_id", *STATE_COLUMNS]].copy()
    out["recorded"] = True
    bare = born[~born["opp_id"].isin(h["opp_id"])]
    if len(bare):
        now = bare[["opp_id", *STATE_COLUMNS]].copy()
        ahead = now["stage"].isin(closed).to_numpy() & (pd.to_datetime(now["close_date"]) > stamp).to_numpy()
        now.loc[ahead, "stage"] = UNKNOWN_STAGE  # closed since: open on `day` (the closing date is its close date)
        now["recorded"] = False
        out = pd.concat([out, now], ignore_index=True)
    # History rows may leave amount or close date empty (a change of stage only): carry the deal's own.
    current = deals.set_index("opp_id")
    for column in ("amount", "close_date"):
        missing = out[column].isna()
        if missing.any():
            out.loc[missing, column] = out.loc[missing, "opp_id"].map(current[column])
    out["amount"] = out["amount"].astype(float)
    out["close_date"] = pd.to_datetime(out["close_date"])
    out["is_open"] = ~out["stage"].isin(closed)
    return out.reset_index(drop=True)


def _in_pipeline(state: pd.DataFrame, window: CloseWindow | None) -> pd.Series:
    inside = state["is_open"].copy()
    if window is not None:
        close = state["close_date"]
        inside &= (close >= pd.Timestamp(window.start)) & (close < pd.Timestamp(window.stop))
    return inside


def movement(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    start_day: date,
    end_day: date,
    *,
    closed_stages: Iterable[str],
    won_stages: Iterable[str],
    window: CloseWindow | None = None,
) -> Movement:
    """The flows from the pipeline at the end of `start_day` to the pipeline at the end of
    `end_day`. `deals` carries opp_id, created_date, the current state columns and any dimension
    columns, which the result keeps (for breakdowns)."""
    if end_day < start_day:
        raise ValueError(f"the end date {end_day} is before the start date {start_day}")
    closed, won = set(closed_stages), set(won_stages)
    a = states(deals, history, start_day, closed)
    b = states(deals, history, end_day, closed)
    a["in"], b["in"] = _in_pipeline(a, window), _in_pipeline(b, window)
    both = a.merge(b, on="opp_id", how="outer", suffixes=("_start", "_end"))
    in_a = both["in_start"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    in_b = both["in_end"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    both = both[in_a | in_b].reset_index(drop=True)
    in_a, in_b = in_a[in_a | in_b], in_b[in_a | in_b]
    existed = both["stage_start"].notna().to_numpy()
    open_a = both["is_open_start"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    open_b = both["is_open_end"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    stage_b = both["stage_end"].astype(str).to_numpy()
    amount_a = both["amount_start"].fillna(0.0).to_numpy(dtype=float)
    amount_b = both["amount_end"].fillna(0.0).to_numpy(dtype=float)
    delta = amount_b - amount_a
    conditions = [
        in_a & in_b & (delta > 0),
        in_a & in_b & (delta < 0),
        ~in_a & in_b & ~existed,
        ~in_a & in_b & existed & open_a,
        ~in_a & in_b & existed & ~open_a,
        in_a & ~in_b & ~open_b & np.isin(stage_b, list(won)),
        in_a & ~in_b & ~open_b,
        in_a & ~in_b & open_b,
    ]
    names = ["amount_up", "amount_down", "new", "pulled_in", "reopened", "won", "lost", "pushed_out"]
    flow = np.select(conditions, names, default="")
    value = np.select(
        [np.isin(flow, ["amount_up", "amount_down"]), np.isin(flow, ["new", "pulled_in", "reopened"]), flow != ""],
        [np.abs(delta), amount_b, amount_a],
        default=0.0,
    )
    both["flow"] = pd.Series(flow, dtype=object).where(flow != "", None)
    both["flow_amount"] = value
    both["start_amount"] = np.where(in_a, amount_a, 0.0)
    both["end_amount"] = np.where(in_b, amount_b, 0.0)
    both["stage_move"] = in_a & in_b & (both["stage_start"].astype(str) != stage_b)
    dims = [c for c in deals.columns if c not in ("opp_id", "created_date", *STATE_COLUMNS)]
    both = both.merge(deals[["opp_id", *dims]], on="opp_id", how="left")
    recorded = both["recorded_end"].where(both["recorded_end"].notna(), both["recorded_start"])
    without = int((~recorded.astype("boolean").fillna(False)).sum())
    return Movement(start_day, end_day, window, both, without)


def totals(deals: pd.DataFrame) -> dict[str, float]:
    """start, each flow's (unsigned) value, end."""
    out = {"start": float(deals["start_amount"].sum())}
    by_flow = deals.groupby("flow")["flow_amount"].sum()
    for name in FLOWS:
        out[name] = float(by_flow.get(name, 0.0))
    out["end"] = float(deals["end_amount"].sum())
    return out


def reconcile(t: dict[str, float]) -> float:
    """start + signed flows - end: zero (to rounding) by construction."""
    return t["start"] + sum(sign * t[name] for name, sign in FLOWS.items()) - t["end"]


def counts(deals: pd.DataFrame) -> dict[str, int]:
    """Deals per flow."""
    found = deals["flow"].value_counts()
    return {name: int(found.get(name, 0)) for name in FLOWS}


def by_group(deals: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """One row per group: start, each flow, net change and end."""
    rows = []
    for key, part in deals.groupby(dims, sort=True, dropna=False):
        values = key if isinstance(key, tuple) else (key,)
        t = totals(part)
        rows.append({**dict(zip(dims, values, strict=True)), **t, "net": t["end"] - t["start"]})
    return pd.DataFrame(rows)


def stage_moves(deals: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    """Deals in the pipeline at both dates whose stage changed: from, to, direction, deals, amount
    (at the end), most value first."""
    moved = deals[deals["stage_move"]]
    if moved.empty:
        return pd.DataFrame(columns=["from_stage", "to_stage", "direction", "deals", "amount"])
    grouped = (
        moved.groupby(["stage_start", "stage_end"])
        .agg(deals=("opp_id", "size"), amount=("amount_end", "sum"))
        .reset_index()
        .rename(columns={"stage_start": "from_stage", "stage_end": "to_stage"})
    )
    rank_from = grouped["from_stage"].map(order).fillna(0)
    rank_to = grouped["to_stage"].map(order).fillna(0)
    grouped["direction"] = np.where(rank_to >= rank_from, "forward", "back")
    grouped["amount"] = grouped["amount"].astype(float)
    return grouped.sort_values(["amount", "from_stage"], ascending=[False, True])[
        ["from_stage", "to_stage", "direction", "deals", "amount"]
    ].reset_index(drop=True)
