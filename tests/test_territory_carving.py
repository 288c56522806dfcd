"""Carving rules: named accounts pinned to reps (over locks), parent/child families kept whole,
their precedence, and the errors a planner gets for a named list that cannot hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interfaces.territory_cli import read_named
from tools.territory.carving import family_keys, family_roots, pins
from tools.territory.models import TerritoryInput
from tools.territory.tool import run_territory
from warehouse.connection import Warehouse
from warehouse.errors import InputError

EMEA = {"filters": {"region": ["EMEA"]}}


def _accounts(wh: Warehouse) -> pd.DataFrame:
    with wh.reader() as cur:
        return cur.query_df(
            "SELECT account_id, owner_rep_id, region, segment, is_strategic FROM accounts WHERE region = 'EMEA' ORDER BY 1"
        )


def _owners_after(wh: Warehouse, result_moves: list[dict]) -> dict[str, str]:
    owners = dict(_accounts(wh)[["account_id", "owner_rep_id"]].itertuples(index=False))
    owners.update({m["account_id"]: m["to_rep_id"] for m in result_moves})
    return owners


def test_family_roots_follow_chains_outside_parents_and_cycles() -> None:
    frame = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "parent_account_id": [None, "a", "b", "X", "X", "g", "f", np.nan],
        }
    )
    roots = dict(zip(frame["account_id"], family_roots(frame), strict=True))
    assert roots["a"] == roots["b"] == roots["c"] == "a"  # grandchild to the top
    assert roots["d"] == roots["e"] == "X"  # siblings under a parent outside the selection
    assert roots["f"] == roots["g"]  # a cycle ends where it repeats, still one family
    assert roots["h"] == "h"


def test_a_family_pinned_to_two_reps_is_split_and_said() -> None:
    frame = pd.DataFrame({"account_id": ["p", "c1", "c2", "q"], "parent_account_id": [None, "p", "p", None]})
    keys, notes = family_keys(frame, np.array([0, -1, -1, -1]), ["R1", "R2"])
    assert keys.tolist() == ["family:p", "family:p", "family:p", "family:q"]
    assert notes == ["1 account families (parent and children) move as one piece each."]
    keys, notes = family_keys(frame, np.array([0, 1, -1, -1]), ["R1", "R2"])
    assert keys.tolist() == ["p", "c1", "c2", "family:q"]
    assert any("Family p is pinned to 2 reps (R1, R2)" in n for n in notes)


def test_named_beats_lock_and_a_locked_orphan_is_free() -> None:
    frame = pd.DataFrame({"account_id": ["a", "b", "c"], "owner_rep_id": ["R1", "R2", "GONE"]})
    locked = np.array([True, True, True])
    assert pins(frame, locked, {"b": "R1"}, {"R1": 0, "R2": 1}).tolist() == [0, 0, -1]


@pytest.fixture
def families(demo_copy: Warehouse) -> tuple[Warehouse, dict[str, list[str]]]:
    """Three EMEA families, each a parent with two children owned by other reps of its group."""
    acc = _accounts(demo_copy)
    acc = acc[~acc["is_strategic"].fillna(False).astype(bool)]
    made: dict[str, list[str]] = {}
    for (_, _segment), group in acc.groupby(["region", "segment"]):
        if len(made) == 3 or group["owner_rep_id"].nunique() < 3:
            continue
        firsts = group.drop_duplicates("owner_rep_id").head(3)["account_id"].tolist()
        made[firsts[0]] = firsts
    assert len(made) >= 2
    with demo_copy.writer() as con:
        for parent, members in made.items():
            for child in members[1:]:
                con.execute("UPDATE accounts SET parent_account_id = ? WHERE account_id = ?", [parent, child])
    return demo_copy, made


def test_families_end_with_one_owner(families: tuple[Warehouse, dict[str, list[str]]]) -> None:
    wh, made = families
    result = run_territory(wh, TerritoryInput(**EMEA, lock=[]))
    owners = _owners_after(wh, result.tables["moves"])
    for members in made.values():
        assert len({owners[a] for a in members}) == 1, members  # they started with three owners
    moved = [m for m in result.tables["moves"] if any(m["account_id"] in ms for ms in made.values())]
    assert moved and all("moves with its family (3 accounts under" in m["reason"] for m in moved)
    assert any("account families (parent and children) move as one piece" in w.message for w in result.warnings)
    split = run_territory(wh, TerritoryInput(**EMEA, lock=[], keep_families=False))
    owners = _owners_after(wh, split.tables["moves"])
    assert any(len({owners[a] for a in members}) > 1 for members in made.values())


def test_named_account_goes_to_its_rep_over_a_lock_with_its_family(
    families: tuple[Warehouse, dict[str, list[str]]],
) -> None:
    wh, made = families
    parent, members = next(iter(made.items()))
    acc = _accounts(wh).set_index("account_id")
    rep = acc.loc[members[1], "owner_rep_id"]  # a child's owner: not the parent's
    assert rep != acc.loc[parent, "owner_rep_id"]
    result = run_territory(wh, TerritoryInput(**EMEA, lock=[parent], named={parent: rep}))
    owners = _owners_after(wh, result.tables["moves"])
    assert all(owners[a] == rep for a in members)  # the locked parent goes where it is named; children follow
    reason = next(m["reason"] for m in result.tables["moves"] if m["account_id"] == parent)
    assert reason.startswith(f"named account of {rep}")


def test_named_lists_that_cannot_hold_are_refused(demo: Warehouse) -> None:
    acc = _accounts(demo)
    first = acc.iloc[0]
    other_segment = acc[acc["segment"] != first["segment"]].iloc[0]
    with pytest.raises(InputError, match="not in this selection: NOPE"):
        run_territory(demo, TerritoryInput(**EMEA, named={"NOPE": first["owner_rep_id"]}))
    with pytest.raises(InputError, match="given to R-NOBODY, not an active AE"):
        run_territory(demo, TerritoryInput(**EMEA, named={first["account_id"]: "R-NOBODY"}))
    with pytest.raises(InputError, match=f"Named account {first['account_id']} is in EMEA {first['segment']}"):
        run_territory(demo, TerritoryInput(**EMEA, named={first["account_id"]: other_segment["owner_rep_id"]}))


def test_named_accounts_from_pairs_and_a_crm_csv(tmp_path: Path) -> None:
    csv = tmp_path / "named.csv"
    csv.write_text("\ufeffAccount_ID,Rep_ID,Note\nA-1,R-1,key logo\nA-2,R-2,\n", encoding="utf-8")
    assert read_named(["A-3=R-3", str(csv)]) == {"A-3": "R-3", "A-1": "R-1", "A-2": "R-2"}
    with pytest.raises(InputError, match="A-1 is named for both R-1 and R-9"):
        read_named([str(csv), "A-1=R-9"])
    bad = tmp_path / "bad.csv"
    bad.write_text("account,owner\nA-1,R-1\n")
    with pytest.raises(InputError, match="needs account_id and rep_id columns"):
        read_named([str(bad)])


def test_open_seats_get_books_and_the_quota_tool_ramps_them(demo_copy: Warehouse) -> None:
    """A group with requisitions but no AE is left alone without seats; with them, each seat gets
    a book within the band, and a saved plan gives the quota tool the carved book per seat."""
    from tools.quota.models import QuotaInput
    from tools.quota.tool import run_quota

    with demo_copy.reader() as cur:
        reqs = cur.query_df(
            "SELECT req_id, segment FROM headcount_plan WHERE status = 'open' AND role = 'AE' AND region = 'APAC'"
        )
        potential = dict(cur.execute("SELECT account_id, coalesce(potential, 0) FROM accounts").fetchall())
    assert len(reqs) >= 2
    apac = {"filters": {"region": ["APAC"]}, "band": 0.1}
    without = run_territory(demo_copy, TerritoryInput(**apac))
    assert not any(r["rep_id"] in set(reqs["req_id"]) for r in without.tables["reps"])
    result = run_territory(demo_copy, TerritoryInput(**apac, open_seats=True, save_scenario="apac-seats"))
    seats = {r["rep_id"]: r for r in result.tables["reps"] if r["rep_id"] in set(reqs["req_id"])}
    assert set(seats) == set(reqs["req_id"])
    for seat in seats.values():
        assert seat["accounts_before"] == 0 and seat["accounts_after"] > 0
        assert 0.9 - 1e-3 <= seat["potential_ratio_after"] <= 1.1 + 1e-3
    assert any(w.code == "open_seats" and w.count == len(reqs) for w in result.warnings)
    said = result.summary.split("Open seats' books: ")[1]  # the answer states each seat's book
    for seat, row in seats.items():
        assert f"{seat} {row['accounts_after']} accounts" in said
    carved = {
        seat: sum(potential[m["account_id"]] for m in result.tables["moves"] if m["to_rep_id"] == seat)
        for seat in seats
    }
    quota = run_quota(demo_copy, QuotaInput(filters={"region": ["APAC"]}, scenario_id="apac-seats"))
    in_quota = {r["rep_id"]: r for r in quota.tables["reps"] if r["rep_id"] in seats}
    for seat, book in carved.items():
        assert in_quota[seat]["potential"] == pytest.approx(book, rel=1e-6)  # the seat's quota rests on its book
