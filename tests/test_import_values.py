"""Cells read the way people write them: locale amounts, bounds, look-alike members and ids,
optional columns, and the DuckDB fast path numbering rows exactly like the exact reader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from warehouse.connection import Warehouse
from warehouse.importers import import_files
from warehouse.importers.values import (
    check_identifier,
    clean_member,
    member_problem,
    parse_date,
    parse_number,
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def reasons(report) -> dict[int, tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    return {int(r.row): (r.column, r.reason) for r in report.rejections.itertuples()}


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("1234.5", ".", 1234.5),
        ("1,234.50", ".", 1234.5),
        ("$1,234.50", ".", 1234.5),
        ("USD 1,200.00", ".", 1200.0),
        ("(1,200)", ".", -1200.0),
        ("-$1,200.00", ".", -1200.0),
        ("1e6", ".", 1_000_000.0),
        ("1'234.50", ".", 1234.5),
        ("1.234,50", ",", 1234.5),
        ("1 234,50", ",", 1234.5),
        ("1234,5", ",", 1234.5),
        ("1.234", ",", 1234.0),
    ],
)
def test_numbers_in_their_written_forms(text: str, decimal: str, value: float) -> None:
    assert parse_number(text, decimal).value == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "decimal", "reason"),
    [
        ("1.234,50", ".", "decimal comma"),
        ("12,5", ".", "decimal comma"),
        ("1,2,3", ".", "is not a number"),
        ("EUR 1.234,56", ".", "is in EUR"),
        ("€1,200", ".", "is in EUR"),
        ("1,234.50", ",", "decimal point"),
        ("1e308", ".", "out of range"),
        ("inf", ".", "is not a number"),
        ("lots", ".", "is not a number"),
    ],
)
def test_numbers_never_misread(text: str, decimal: str, reason: str) -> None:
    parsed = parse_number(text, decimal)  # type: ignore[arg-type]
    assert parsed.value is None and reason in (parsed.reason or "")


def test_dates_identifiers_and_members() -> None:
    assert parse_date("11/29/2026", ("%m/%d/%Y", "%Y-%m-%d")).value == date(2026, 11, 29)
    assert parse_date("2026-11-29T10:00:00Z", ("%Y-%m-%d",)).value == date(2026, 11, 29)
    assert "plausible" in (parse_date("1800-01-01", ("%Y-%m-%d",)).reason or "")
    assert check_identifier("A-1").value == "A-1"
    assert "invisible" in (check_identifier("A\u200b1").reason or "")
    assert "'A1'" in (check_identifier("Ａ１").reason or "")
    assert clean_member("ＥＭＥＡ") == ("EMEA", "'ＥＭＥＡ' read as 'EMEA'")
    assert "looks like 'EMEA'" in (member_problem("ЕМЕА", ["EMEA"]) or "")  # Cyrillic
    assert member_problem("EMEA", ["EMEA"]) is None
    assert member_problem("Россия", ["EMEA", "NA"]) is None  # a real Cyrillic name stays allowed


def test_locale_amounts_and_bounds_end_to_end(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "account_id,name\nA1,Acme\n")
    opps = write(
        tmp_path,
        "opportunities.csv",
        "opp_id,account_id,created_date,close_date,stage,amount\n"
        'O1,A1,2026-01-01,2026-02-01,Proposal,"1.234,50"\n'  # 2
        'O2,A1,2026-01-01,2026-02-01,Proposal,"EUR 1.234,56"\n'  # 3
        'O3,A1,2026-01-01,2026-02-01,Proposal,"1,2,3"\n'  # 4
        "O4,A1,2026-01-01,2026-02-01,Proposal,1e308\n"  # 5
        'O5,A1,2026-01-01,2026-02-01,Proposal,"$1,234.50"\n'  # 6
        "O6,A1,2026-01-01,2026-02-01,Proposal, 77 \n",  # 7: spaces around
    )
    report = import_files(empty, [tmp_path])
    got = reasons(report)
    assert got[2][0] == "amount" and "--decimal ," in got[2][1]
    assert "is in EUR" in got[3][1] and got[4][1] == "is not a number" and "out of range" in got[5][1]
    assert set(got) == {2, 3, 4, 5}
    with empty.reader() as cur:
        assert cur.execute("SELECT opp_id, amount FROM opportunities ORDER BY 1").fetchall() == [
            ("O5", 1234.5),
            ("O6", 77.0),
        ]
    again = import_files(empty, [opps], decimal=",")
    assert reasons(again)[6][1].startswith("uses a decimal point")
    with empty.reader() as cur:
        assert cur.scalar("SELECT amount FROM opportunities WHERE opp_id = 'O1'") == 1234.5


def test_look_alike_members_and_ids_are_stopped(empty: Warehouse, tmp_path: Path) -> None:
    write(
        tmp_path,
        "accounts.csv",
        "account_id,name,region\nA1,Acme,EMEA\nA2,Cyrillic,ЕМЕА\nA3,Full width,ＥＭＥＡ\nA\u200b4,Zero width,EMEA\n",
    )
    report = import_files(empty, [tmp_path])
    got = reasons(report)
    assert got[3][0] == "region" and "looks like 'EMEA'" in got[3][1]
    assert got[5][0] == "account_id" and "invisible" in got[5][1]
    assert report.created_members == {"regions": ["EMEA"]}
    assert any("read as 'EMEA'" in note for f in report.files for note in f.notes)
    with empty.reader() as cur:
        assert cur.execute("SELECT account_id, region FROM accounts ORDER BY 1").fetchall() == [
            ("A1", "EMEA"),
            ("A3", "EMEA"),
        ]


def test_optional_columns_are_optional(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "reps.csv", "rep_id,name\nR1,Ana\n")  # no role, no dates
    write(tmp_path, "accounts.csv", "account_id,name\nA1,Acme\n")
    write(
        tmp_path,
        "opportunities.csv",
        "opp_id,account_id,created_date,close_date,stage,amount\nO1,A1,2026-01-01,2026-02-01,Closed Won,10\n",
    )
    report = import_files(empty, [tmp_path])
    assert report.rejected == 0 and report.loaded == 3
    assert any("no role" in note for f in report.files for note in f.notes)
    with empty.reader() as cur:
        assert cur.execute("SELECT role, end_date FROM reps").fetchall() == [("AE", None)]
        assert cur.execute("SELECT is_closed, is_won FROM opportunities").fetchall() == [(True, True)]
        cur_role = cur.scalar("SELECT role FROM reps WHERE rep_id = 'R1'")
    assert cur_role == "AE"
    write(tmp_path, "reps.csv", "rep_id,name,role\nR1,Ana,Manager\n")
    import_files(empty, [tmp_path / "reps.csv"])
    write(tmp_path, "reps.csv", "rep_id,name,role\nR1,Ana Q,\n")  # an empty role keeps the stored one
    import_files(empty, [tmp_path / "reps.csv"])
    with empty.reader() as cur:
        assert cur.execute("SELECT name, role FROM reps").fetchall() == [("Ana Q", "Manager")]


def test_fast_reader_numbers_rows_like_the_exact_reader(empty: Warehouse, tmp_path: Path) -> None:
    """Ragged lines in the middle shift the numbering of the rows after them; blank lines and
    quoted line breaks switch to the exact reader. Either way, row = the spreadsheet's row."""
    header = "account_id,name,arr\n"
    lines = ["A1,One,1", "A2,Two", "A3,Three,x", "A4,Four,4,extra", "A5,Five,y"]
    write(tmp_path, "accounts.csv", header + "\n".join(lines) + "\n")
    fast = reasons(import_files(empty, [tmp_path / "accounts.csv"]))
    assert fast == {
        3: (None, "has 2 fields, the header has 3"),
        4: ("arr", "is not a number"),
        5: (None, "has 4 fields, the header has 3"),
        6: ("arr", "is not a number"),
    }
    write(tmp_path, "accounts.csv", header + "\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n")
    exact = reasons(import_files(empty, [tmp_path / "accounts.csv"]))
    assert exact == {3: fast[3], 5: fast[4], 6: fast[5], 7: fast[6]}  # one blank line: one row later
