"""Opportunities with full stage histories, and the bookings their wins produce.

The simulation, vectorised over all opportunities:

1. Arrivals: each account creates opportunities as a Poisson process whose monthly rate grows
   with its potential (elasticity 0.35), the company's growth, fiscal seasonality and the
   coverage of its territory (a ramping AE creates less, a vacant seat only gets inbound).
2. Each deal draws a product, a type, a lognormal amount (segment median scaled by the
   account's potential) and a lognormal sales cycle.
3. Outcome: a logistic model of segment, the owner's ramp and skill, deal size, cycle length,
   product, type and fiscal Q4 decides the win, so the data carries the signal a
   win-probability model should find. Intercepts are solved per segment so the average win
   rate equals the configured one.
4. Deals due near a quarter's end close in its last days, and some won deals are pulled in
   from the next quarter (more in Q4); planned close dates slip by pushes before the close.
5. Stage history: won deals pass all five open stages; lost deals die after a random stage.
   Every stage entry, close-date push and amount revision is a history row, so any deal can
   be seen as it stood on any date. Deals closing after the as-of date are open, cut at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar
from warehouse.demo import config as cfg
from warehouse.demo.accounts import Accounts
from warehouse.demo.org import Org

EPOCH = np.datetime64("1970-01-01", "D")
STAGE_NAMES = [name for name, _ in cfg.OPEN_STAGES] + [cfg.WON_STAGE, cfg.LOST_STAGE]
WON_CODE, LOST_CODE = 5, 6  # indices into STAGE_NAMES
FORECAST_CATEGORIES = ["Pipeline", "Best Case", "Commit", "Closed", "Omitted"]
MAX_PUSHES = 6


@dataclass
class Pipeline:
    opportunities: pd.DataFrame
    history: pd.DataFrame
    bookings: pd.DataFrame


def _labels(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """Repeated strings as a categorical: millions of rows cost one byte each, not a string."""
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=names)


def _day(d: date) -> int:
    return int((np.datetime64(d, "D") - EPOCH).astype(np.int64))


def _dates(days: np.ndarray) -> np.ndarray:
    return (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[D]")


def _fiscal_quarter_bounds(days: np.ndarray, start_month: int) -> tuple[np.ndarray, np.ndarray]:
    """(first day, fiscal quarter number 1-4) of the fiscal quarter containing each day."""
    months = _dates(days).astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    fiscal_month = (months % 12 + 1 - start_month) % 12  # 0-based month of the fiscal year
    quarter_start = months - fiscal_month % 3
    first_day = (quarter_start.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(np.int64)
    return first_day, fiscal_month // 3 + 1


def _month_add_days(month_index: np.ndarray) -> np.ndarray:
    return (month_index.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(np.int64)


def _solve_intercepts(logit: np.ndarray, groups: np.ndarray, targets: dict[int, float]) -> np.ndarray:
    """Shift each group's logits so its mean probability equals the target (Newton steps)."""
    out = logit.copy()
    for group, target in targets.items():
        mask = groups == group
        if not mask.any():
            continue
        shift = 0.0
        for _ in range(30):
            p = 1.0 / (1.0 + np.exp(-(logit[mask] + shift)))
            err = p.mean() - target
            if abs(err) < 1e-7:
                break
            shift -= err / max((p * (1 - p)).mean(), 1e-9)
        out[mask] = logit[mask] + shift
    return out


def build_pipeline(
    rng: np.random.Generator,
    size: cfg.DemoSize,
    org: Org,
    accounts: Accounts,
    calendar: FiscalCalendar,
    sim_start: date,
    history_start: date,
    as_of: date,
) -> Pipeline:
    acc = accounts.frame
    seg_idx = acc["segment"].map({s: i for i, s in enumerate(cfg.SEGMENTS)}).to_numpy()
    potential = acc["potential"].to_numpy()
    seg_pot_median = np.array([np.median(potential[seg_idx == i]) if (seg_idx == i).any() else 1.0 for i in range(3)])
    pot_ratio = potential / seg_pot_median[seg_idx]

    # 1. Arrivals per account and month.
    months = org.months
    start_month_index = sim_start.year * 12 + sim_start.month - 1 - 1970 * 12
    month_index = start_month_index + np.arange(months)
    fiscal_month = (month_index % 12 + 1 - calendar.start_month) % 12
    growth = (1 + cfg.ANNUAL_GROWTH) ** ((np.arange(months) - (months - 1)) / 12.0)
    month_factor = np.asarray(cfg.CREATION_SEASONALITY)[fiscal_month] * growth
    month_factor[-1] *= as_of.day / 30.44  # the as-of month is only partly over

    seg_rate = np.array([cfg.SEGMENT_OPP_RATE[s] for s in cfg.SEGMENTS])
    account_rate = seg_rate[seg_idx] * pot_ratio**0.35
    account_rate *= size.opps_per_account_year / 12.0 / account_rate.mean()

    seat = acc["seat"].to_numpy()
    occupant = org.occupant[seat]  # [account, month]
    coverage = np.where(occupant >= 0, 0.35 + 0.65 * org.ramp[seat], np.where(occupant == -1, 0.3, 0.2))
    lam = account_rate[:, None] * month_factor[None, :] * coverage
    counts = rng.poisson(lam)
    del lam, coverage
    opp_account, opp_month = np.nonzero(counts)
    reps_per = counts[opp_account, opp_month]
    opp_account = np.repeat(opp_account, reps_per)
    opp_month = np.repeat(opp_month, reps_per)
    del counts
    n = len(opp_account)

    month_first = _month_add_days(month_index[opp_month])
    month_len = _month_add_days(month_index[opp_month] + 1) - month_first
    as_of_day = _day(as_of)
    month_len = np.where(opp_month == months - 1, as_of.day, month_len)
    created = month_first + (rng.random(n) * month_len).astype(np.int64)

    occ = occupant[opp_account, opp_month]
    owner_row = np.where(occ >= 0, occ, org.seats["manager_rep"].to_numpy()[seat[opp_account]])
    ramp = np.where(occ >= 0, org.ramp[seat[opp_account], opp_month], 0.5)
    skill = org.skill[owner_row]
    seg = seg_idx[opp_account]

    # 2. Deal attributes.
    product = rng.choice(len(cfg.PRODUCTS), size=n, p=cfg.PRODUCT_SHARE)
    is_customer = accounts.base_arr[opp_account] > 0
    expansion = rng.random(n) < np.where(is_customer, 0.55, 0.12)
    deal_median = np.array([cfg.SEGMENT_DEAL_MEDIAN[s] for s in cfg.SEGMENTS])[seg]
    size_factor = pot_ratio[opp_account] ** 0.45 * np.asarray(cfg.PRODUCT_SIZE)[product]
    size_factor *= np.where(expansion, 0.6, 1.0)
    amount = deal_median * size_factor * rng.lognormal(0.0, 0.5, n)
    amount = np.maximum(np.where(seg == 0, np.round(amount, -3), np.round(amount, -2)), 1_000.0)
    cycle_median = np.array([cfg.SEGMENT_CYCLE_MEDIAN[s] for s in cfg.SEGMENTS])[seg]
    cycle = cycle_median * rng.lognormal(0.0, 0.5, n) * (amount / deal_median) ** 0.15
    cycle = np.maximum(np.round(cycle), 7).astype(np.int64)
    raw_close = created + cycle

    # 3. Outcome.
    _, close_quarter = _fiscal_quarter_bounds(raw_close, calendar.start_month)
    logit = (
        1.1 * (ramp - 1.0)
        + skill
        + np.asarray(cfg.PRODUCT_WIN_LOGIT)[product]
        + 0.5 * expansion
        - 0.35 * np.log(amount / deal_median)
        - 0.7 * np.log(cycle / cycle_median)
        + 0.2 * (close_quarter == 4)
        + rng.normal(0.0, 0.5, n)
    )
    logit = _solve_intercepts(logit, seg, {i: cfg.SEGMENT_WIN_RATE[s] for i, s in enumerate(cfg.SEGMENTS)})
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    # 4. Close dates: deals due near a quarter's end close in its last days (pushed out a few
    # weeks, or pulled in from the next quarter's first weeks by reps chasing the number,
    # which wins more often); then the pushes of the planned close date that led up to it.
    q_first, q_number = _fiscal_quarter_bounds(raw_close, calendar.start_month)
    q_end = _month_add_days(_dates(q_first).astype("datetime64[M]").astype(np.int64) + 3)
    pull_p = np.where(q_number == 4, cfg.YEAR_END_PULL, cfg.QUARTER_END_PULL)
    pull_p = pull_p * np.where(won, 1.3, 0.8)
    last_days = rng.integers(1, 8, n)
    push_out = (q_end - raw_close <= 25) & (rng.random(n) < 2 * pull_p)
    pull_in = (raw_close - q_first < 15) & (rng.random(n) < pull_p) & won
    close = np.where(push_out, q_end - last_days, raw_close)
    close = np.where(pull_in & (q_first - last_days >= created + 7), q_first - last_days, close)

    pushes = rng.poisson(0.3 + 0.9 * ~won + 0.25 * cycle / cycle_median)
    pushes = np.minimum(pushes, MAX_PUSHES)
    deltas = rng.integers(14, 46, size=(n, MAX_PUSHES)) * (np.arange(MAX_PUSHES) < pushes[:, None])
    # plan[:, j] = close date believed after j pushes; plan[:, pushes] = actual close.
    back = np.cumsum(deltas[:, ::-1], axis=1)[:, ::-1]  # total still to push after j
    plan = close[:, None] - np.concatenate([back, np.zeros((n, 1), np.int64)], axis=1)
    plan = np.maximum(plan, created[:, None] + 7)
    plan[np.arange(n), pushes] = close
    push_day = plan[:, :MAX_PUSHES] - rng.integers(0, 8, size=(n, MAX_PUSHES))
    push_day = np.clip(push_day, created[:, None] + 1, np.maximum(close - 1, created + 1)[:, None])

    # 5. Stages: won deals reach all five open stages; lost deals stop at a random one.
    max_stage = np.where(won, 5, rng.choice(5, size=n, p=cfg.LOST_MAX_STAGE_P) + 1)
    fractions = np.sort(rng.uniform(0.0, 0.95, size=(n, 4)), axis=1)
    stage_day = created[:, None] + np.round(
        np.concatenate([np.zeros((n, 1)), fractions], axis=1) * (close - created)[:, None]
    ).astype(np.int64)
    revised = (rng.random(n) < 0.3) & (max_stage >= 4)
    initial_amount = np.where(revised, np.round(amount * rng.uniform(0.75, 1.35, n), -2), amount)

    commit_shift = np.where(won, 0.15, -0.15)
    fc_by_stage = np.zeros((n, 5), dtype=np.int64)  # Pipeline
    fc_by_stage[:, 2] = np.where(rng.random(n) < 0.5 + commit_shift, 1, 0)
    fc_by_stage[:, 3] = np.where(rng.random(n) < 0.45 + commit_shift, 2, 1)
    fc_by_stage[:, 4] = np.where(rng.random(n) < 0.85 + commit_shift, 2, 1)

    closed = close <= as_of_day

    # Event rows: stage entries, pushes, close.
    opp = np.arange(n)
    ev = []
    for k in range(5):
        m = max_stage > k
        day = stage_day[m, k]
        amt = np.full(int(m.sum()), np.nan)
        if k == 0:
            amt = initial_amount[m]
        elif k == 3:
            amt = amount[m]
        close_known = plan[m, 0] if k == 0 else np.full(int(m.sum()), -1)
        ev.append((opp[m], day, np.full(day.shape, k), amt, close_known, fc_by_stage[m, k], 0))
    for j in range(MAX_PUSHES):
        m = pushes > j
        day = push_day[m, j]
        ev.append(
            (
                opp[m],
                day,
                np.full(day.shape, -1),
                np.full(day.shape, np.nan),
                plan[m, j + 1],
                np.full(day.shape, -1),
                1,
            )
        )
    m = closed
    ev.append(
        (
            opp[m],
            close[m],
            np.where(won[m], WON_CODE, LOST_CODE),
            amount[m],
            close[m],
            np.where(won[m], 3, 4),
            2,
        )
    )
    h_opp = np.concatenate([e[0] for e in ev])
    h_day = np.concatenate([e[1] for e in ev])
    h_stage = np.concatenate([e[2] for e in ev])
    h_amount = np.concatenate([e[3] for e in ev])
    h_close = np.concatenate([e[4] for e in ev])
    h_fc = np.concatenate([e[5] for e in ev])
    h_kind = np.concatenate([np.full(len(e[0]), e[6]) for e in ev])

    # Open deals are cut at the as-of date.
    keep = closed[h_opp] | (h_day <= as_of_day)
    h_opp, h_day, h_stage, h_amount, h_close, h_fc, h_kind = (
        a[keep] for a in (h_opp, h_day, h_stage, h_amount, h_close, h_fc, h_kind)
    )
    order = np.lexsort((h_kind, h_stage, h_day, h_opp))
    h_opp, h_day, h_stage, h_amount, h_close, h_fc, h_kind = (
        a[order] for a in (h_opp, h_day, h_stage, h_amount, h_close, h_fc, h_kind)
    )
    hist = pd.DataFrame(
        {
            "opp": h_opp,
            "day": h_day,
            "stage": np.where(h_stage >= 0, h_stage, np.nan),
            "amount": h_amount,
            "close": np.where(h_close >= 0, h_close, np.nan).astype(float),
            "fc": np.where(h_fc >= 0, h_fc, np.nan),
        }
    )
    # Rows of an opportunity are contiguous and its first row carries every field.
    hist[["stage", "amount", "close", "fc"]] = hist[["stage", "amount", "close", "fc"]].ffill()
    hist["seq"] = hist.groupby("opp").cumcount() + 1

    last = hist.drop_duplicates("opp", keep="last").set_index("opp")
    stage_rows = hist[hist["stage"].notna()]
    stage_change = (
        stage_rows.loc[stage_rows["stage"].ne(stage_rows.groupby("opp")["stage"].shift())].groupby("opp")["day"].max()
    )
    pushes_done = pd.Series(h_kind == 1).groupby(h_opp).sum().reindex(opp, fill_value=0).to_numpy()

    cur_stage = last["stage"].reindex(opp).to_numpy().astype(np.int64)
    cur_amount = last["amount"].reindex(opp).to_numpy()
    cur_close = last["close"].reindex(opp).to_numpy().astype(np.int64)
    cur_fc = last["fc"].reindex(opp).to_numpy().astype(np.int64)

    account_ids = acc["account_id"].to_numpy()
    rep_ids = org.reps["rep_id"].to_numpy()
    # Deals that closed during the burn-in year are not part of the history.
    kept = ~(closed & (close < _day(history_start)))
    number = np.cumsum(kept)
    opp_ids = np.array([f"O-{k:07d}" for k in number], dtype=object)
    lost_reason = np.where(
        closed & ~won,
        rng.choice(np.array(cfg.LOST_REASONS, dtype=object), n, p=cfg.LOST_REASON_P),
        np.array(None, dtype=object),
    )
    products = np.asarray(cfg.PRODUCTS, dtype=object)[product]
    opportunities = pd.DataFrame(
        {
            "opp_id": opp_ids,
            "name": acc["name"].to_numpy()[opp_account] + " - " + products,
            "account_id": account_ids[opp_account],
            "owner_rep_id": rep_ids[owner_row],
            "product": _labels(product, list(cfg.PRODUCTS)),
            "type": _labels(expansion.astype(np.int64), ["New Business", "Expansion"]),
            "created_date": _dates(created),
            "close_date": _dates(cur_close),
            "stage": _labels(cur_stage, STAGE_NAMES),
            "amount": cur_amount,
            "is_closed": closed,
            "is_won": closed & won,
            "forecast_category": _labels(cur_fc, FORECAST_CATEGORIES),
            "lost_reason": lost_reason,
            "push_count": pushes_done,
            "stage_changed_date": _dates(stage_change.reindex(opp).to_numpy().astype(np.int64)),
        }
    )[kept].reset_index(drop=True)
    history = pd.DataFrame(
        {
            "opp_id": opp_ids[hist["opp"].to_numpy()],
            "seq": hist["seq"].to_numpy(),
            "changed_date": _dates(hist["day"].to_numpy()),
            "stage": _labels(hist["stage"].to_numpy(), STAGE_NAMES),
            "amount": hist["amount"].to_numpy(),
            "close_date": _dates(hist["close"].to_numpy().astype(np.int64)),
            "forecast_category": _labels(hist["fc"].to_numpy(), FORECAST_CATEGORIES),
        }
    )[kept[hist["opp"].to_numpy()]].reset_index(drop=True)
    wins = np.flatnonzero(closed & won & kept)
    bookings = pd.DataFrame(
        {
            "booking_id": np.array([f"B-{k:07d}" for k in number[wins]], dtype=object),
            "date": _dates(close[wins]),
            "amount": amount[wins],
            "region": acc["region"].to_numpy()[opp_account[wins]],
            "segment": acc["segment"].to_numpy()[opp_account[wins]],
            "product": products[wins],
            "rep_id": rep_ids[owner_row[wins]],
            "account_id": account_ids[opp_account[wins]],
            "opp_id": opp_ids[wins],
        }
    )
    return Pipeline(opportunities=opportunities, history=history, bookings=bookings)
