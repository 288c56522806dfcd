"""Words and tables of a pipeline movement: the waterfall (start, each flow, end), the breakdown,
the stage moves, the deals behind the biggest flows, and what to do about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tools.contract import DataWarning, Impact, Recommendation
from tools.core import format as fmt
from tools.core.selection import Selection
from tools.pipeline.movement import FLOW_LABELS, FLOWS, Movement, by_group, counts, reconcile, stage_moves

TOP_DEALS = 15
PUSHED_SHARE = 0.10  # pushed-out value above this share of the start pipeline is worth a review


@dataclass(frozen=True)
class View:
    moved: Movement
    sel: Selection
    by: list[str]
    stage_order: dict[str, int]

    @property
    def totals(self) -> dict[str, float]:
        return self.moved.totals()

    @property
    def what(self) -> str:
        """'EMEA FY2027-Q4 pipeline' / 'the open pipeline of all data'."""
        where = self.sel.describe()
        window = self.moved.window
        scope = "" if where == "all data" else f"{where}: "
        return f"{scope}{window.name} pipeline" if window else f"{scope}open pipeline (all close dates)"


def _signed(name: str, value: float) -> str:
    return f"{'+' if FLOWS[name] > 0 else '-'}{fmt.money(value)} {FLOW_LABELS[name].lower()}"


def summary(v: View) -> str:
    t, m = v.totals, v.moved
    net = t["end"] - t["start"]
    flows = [_signed(n, t[n]) for n in FLOWS if t[n] > 0]
    moved = ", ".join(flows) if flows else "no deal moved"
    return (
        f"{v.what[0].upper()}{v.what[1:]}: {fmt.money(t['start'])} on {m.start_day} -> {fmt.money(t['end'])} on "
        f"{m.end_day} ({'+' if net >= 0 else '-'}{fmt.money(abs(net))}): {moved}."
    )


def metrics(v: View, filters: dict[str, list[str]]) -> dict[str, Any]:
    t, m = v.totals, v.moved
    return {
        "since": m.start_day.isoformat(),
        "until": m.end_day.isoformat(),
        "close_window": None
        if m.window is None
        else {"period": m.window.name, "start": m.window.start.isoformat(), "end": m.window.stop.isoformat()},
        "start": t["start"],
        "end": t["end"],
        "net": t["end"] - t["start"],
        "flows": {name: t[name] for name in FLOWS},
        "deals": counts(m.deals),
        "stage_moves": int(m.deals["stage_move"].sum()),
        "reconciliation_residual": round(reconcile(t), 6),
        "deals_without_history": m.without_history,
        "filters": filters,
    }


def _waterfall(v: View) -> list[dict[str, Any]]:
    t, n, m = v.totals, counts(v.moved.deals), v.moved
    start_deals = int((m.deals["start_amount"] > 0).sum())
    end_deals = int((m.deals["end_amount"] > 0).sum())
    rows = [{"step": "start", "label": f"Pipeline on {m.start_day}", "amount": t["start"], "deals": start_deals}]
    running = t["start"]
    for name, sign in FLOWS.items():
        running += sign * t[name]
        rows.append(
            {"step": name, "label": FLOW_LABELS[name], "amount": sign * t[name], "deals": n[name], "running": running}
        )
    rows.append({"step": "end", "label": f"Pipeline on {m.end_day}", "amount": t["end"], "deals": end_deals})
    rows[0]["running"], rows[-1]["running"] = t["start"], t["end"]
    return rows


def _deal_rows(deals: pd.DataFrame) -> list[dict[str, Any]]:
    moved = deals[deals["flow"].notna()].sort_values(["flow_amount", "opp_id"], ascending=[False, True])
    out = []
    for r in moved.head(TOP_DEALS).to_dict("records"):
        out.append(
            {
                "opp_id": r["opp_id"],
                "name": r.get("name"),
                "rep_name": r.get("rep_name"),
                "flow": r["flow"],
                "amount": FLOWS[r["flow"]] * float(r["flow_amount"]),
                "stage_before": None if pd.isna(r["stage_start"]) else r["stage_start"],
                "stage_after": r["stage_end"],
                "close_before": None if pd.isna(r["close_date_start"]) else r["close_date_start"].date().isoformat(),
                "close_after": r["close_date_end"].date().isoformat(),
            }
        )
    return out


def tables(v: View) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"waterfall": _waterfall(v)}
    if v.by:
        groups = by_group(v.moved.deals, v.by)
        out["by_group"] = groups.sort_values("net").to_dict("records")
    moves = stage_moves(v.moved.deals, v.stage_order)
    out["stage_moves"] = moves.to_dict("records")
    out["deals"] = _deal_rows(v.moved.deals)
    return out


def recommendations(v: View) -> list[Recommendation]:
    t, n, m = v.totals, counts(v.moved.deals), v.moved
    where = "" if v.sel.describe() == "all data" else f" in {v.sel.describe()}"
    recs = []
    if m.window is not None and t["pushed_out"] > PUSHED_SHARE * max(t["start"], 1.0):
        pushed = m.deals[m.deals["flow"] == "pushed_out"].nlargest(3, "flow_amount")
        names = ", ".join(f"{r.opp_id} ({fmt.money(r.flow_amount)})" for r in pushed.itertuples())
        recs.append(
            Recommendation(
                action=f"Review the {n['pushed_out']} deals{where} pushed out of {m.window.name} "
                f"({fmt.money(t['pushed_out'])}), largest first: {names}.",
                rationale=f"{fmt.share(t['pushed_out'] / t['start'])} of the {fmt.money(t['start'])} pipeline on "
                f"{m.start_day} moved its close date past {m.window.name}; pushes late in a quarter rarely come back.",
                impact=Impact(metric=f"{m.window.name} pipeline", before=t["end"], after=t["end"] + t["pushed_out"]),
                confidence=0.6,
                group=_group(v),
            )
        )
    # Won deals leaving the pipeline is the pipeline doing its job; what needs replacing is what
    # was lost, pushed away or cut beyond what came in.
    left = t["lost"] + t["pushed_out"] + t["amount_down"]
    entered = t["new"] + t["pulled_in"] + t["reopened"] + t["amount_up"]
    if t["end"] < t["start"] and left > entered:
        recs.append(
            Recommendation(
                action=f"Create {fmt.money(t['start'] - t['end'])} of new pipeline{where}"
                + (f" closing in {m.window.name}" if m.window else "")
                + f" to get back to the {m.start_day} level.",
                rationale=f"{fmt.money(left)} was lost, pushed out or cut (lost {fmt.money(t['lost'])}, pushed out "
                f"{fmt.money(t['pushed_out'])}, cut {fmt.money(t['amount_down'])}) and only {fmt.money(entered)} came in; "
                f"{fmt.money(t['won'])} closed won.",
                impact=Impact(metric="open pipeline", before=t["end"], after=t["start"]),
                confidence=0.5,
                group=_group(v),
            )
        )
    return recs


def _group(v: View) -> dict[str, str]:
    return {d: "/".join(vals) for d, vals in v.sel.constraints.items()}


def assumptions(v: View) -> list[str]:
    m = v.moved
    window = f"deals closing {m.window.start} to {m.window.stop} ({m.window.name})" if m.window else "every open deal"
    return [
        f"The pipeline on a day is {window} as it stood at the end of that day (opportunity_history).",
        "Entries count at their end amount, exits (won, lost, pushed out) at their start amount, amount changes "
        "by their difference, so start + flows = end exactly.",
        "Deals are placed by their current owner and account (the history records no owner changes).",
    ]


def warnings(v: View) -> list[DataWarning]:
    m = v.moved
    if not m.without_history:
        return []
    return [
        DataWarning(
            code="no_history",
            message=f"{fmt.count(m.without_history)} of the deals have no recorded changes: each is taken as it stands "
            "now (open until its close date), so its moves between the two days are not seen.",
            count=m.without_history,
        )
    ]
