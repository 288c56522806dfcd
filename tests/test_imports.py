"""Imports: every row loaded or rejected with a reason, atomic, idempotent, both formats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError
from warehouse.importers import import_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def count(wh: Warehouse, table: str) -> int:
    with wh.reader() as cur:
        return int(cur.scalar(f"SELECT count(*) FROM {table}"))


def reasons(report) -> list[tuple[int, str | None, str]]:  # type: ignore[no-untyped-def]
    r = report.rejections.sort_values(["row", "column"])
    return list(zip(r["row"], r["column"], r["reason"], strict=True))


def test_native_samples_load_and_reimport_is_idempotent(empty: Warehouse) -> None:
    first = import_files(empty, [SAMPLES / "native"])
    assert first.committed and first.rejected == 0
    assert first.read == first.loaded > 0
    for f in first.files:
        expected = len(pd.read_csv(SAMPLES / "native" / f.file))
        assert (f.read, f.loaded, f.inserted) == (expected, expected, expected)
    before = {t: count(empty, t) for t in ("reps", "accounts", "opportunities", "bookings", "quotas", "targets")}

    again = import_files(empty, [SAMPLES / "native"])
    assert again.rejected == 0
    assert all(f.inserted == 0 and f.updated == f.loaded for f in again.files)
    assert {t: count(empty, t) for t in before} == before


def test_bookings_alone_are_enough(empty: Warehouse) -> None:
    path = SAMPLES / "bookings_only" / "bookings.csv"
    report = import_files(empty, [path])
    rows = len(pd.read_csv(path))
    assert (report.read, report.loaded, report.rejected) == (rows, rows, 0)
    assert sorted(report.created_members["regions"]) == ["APAC", "EMEA", "LATAM", "NA"]
    with empty.reader() as cur:
        assert cur.scalar("SELECT count(DISTINCT booking_id) FROM bookings") == rows
    import_files(empty, [path])
    assert count(empty, "bookings") == rows  # derived ids are stable: no duplicates


def test_identical_booking_rows_are_both_kept(empty: Warehouse, tmp_path: Path) -> None:
    path = write(tmp_path, "bookings.csv", "date,amount\n2026-01-05,100\n2026-01-05,100\n")
    import_files(empty, [path])
    import_files(empty, [path])
    assert count(empty, "bookings") == 2


ACCOUNTS_HEADER = "account_id,name,region,segment,zip,country,arr,is_strategic,employees\n"


def test_each_error_kind_is_reported_with_row_column_and_reason(empty: Warehouse, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "accounts.csv",
        ACCOUNTS_HEADER
        + "A1,Good One,EMEA,SMB,75001,FR,100,false,20\n"  # row 2
        + "A2,Ragged,EMEA\n"  # 3: wrong field count
        + "A3,Bad Number,EMEA,SMB,75001,FR,lots,false,20\n"  # 4
        + "A4,Negative,EMEA,SMB,75001,FR,-5,false,20\n"  # 5
        + "A5,Bad Bool,EMEA,SMB,75001,FR,0,maybe,20\n"  # 6
        + "A6,,EMEA,SMB,75001,FR,0,false,20\n"  # 7: required value missing
        + "A1,Duplicate,EMEA,SMB,75001,FR,0,false,20\n"  # 8: key repeats row 2
        + "A8,Bad Country,EMEA,SMB,75001,Atlantis,0,false,20\n"  # 9
        + "A9,Fractional,EMEA,SMB,75001,FR,0,false,20.5\n",  # 10
    )
    report = import_files(empty, [path])
    assert (report.read, report.loaded, report.rejected) == (9, 1, 8)
    got = reasons(report)
    assert got == [
        (3, None, "has 3 fields, the header has 9"),
        (4, "arr", "is not a number"),
        (5, "arr", "must be at least 0"),
        (6, "is_strategic", "is not true/false"),
        (7, "name", "is required"),
        (8, "account_id", "repeats the key of row 2"),
        (9, "country", "is not a country (use an ISO code such as US, GB, DE)"),
        (10, "employees", "is not a whole number"),
    ]
    assert set(report.rejections["file"]) == {"accounts.csv"}
    assert count(empty, "accounts") == 1


def test_reference_and_consistency_rules(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "account_id,name\nA1,Acme\n")
    write(
        tmp_path,
        "opportunities.csv",
        "opp_id,account_id,created_date,close_date,stage,amount,is_closed,is_won\n"
        "O1,A1,2026-01-01,2026-03-01,Proposal,100,false,false\n"  # 2 ok
        "O2,A404,2026-01-01,2026-03-01,Proposal,100,false,false\n"  # 3 unknown account
        "O3,A1,2026-03-01,2026-01-01,Proposal,100,false,false\n"  # 4 closes before created
        "O4,A1,2026-01-01,2026-03-01,Closed Won,100,true,true\n"  # 5 ok
        "O5,A1,2026-01-01,2026-03-01,Demo,100,false,false\n"  # 6 unknown stage
        "O6,A1,2026-01-01,2026-03-01,Proposal,100,true,false\n"  # 7 closed flag vs open stage
        "O7,A1,2026-01-01,2026-03-01,Proposal,100,false,true\n"  # 8 won but not closed
        "O8,A1,01/02/2026,2026-03-01,Proposal,100,false,false\n"  # 9 not ISO date
        "O9,A1,2026-01-01,2026-03-01,closed won,100,,\n",  # 10 ok: stage case, flags derived
    )
    write(
        tmp_path,
        "reps.csv",
        "rep_id,name,role,hire_date,end_date\nR1,Ana,Astronaut,2024-01-01,\nR2,Bo,AE,2024-05-01,2024-01-01\n",
    )
    write(tmp_path, "quotas.csv", "rep_id,period,amount\nR1,FY2027-Q5,10\nR1,Q2 FY27,10\n")
    report = import_files(empty, [tmp_path])
    by_file = {f.file: f for f in report.files}
    assert (by_file["opportunities.csv"].loaded, by_file["opportunities.csv"].rejected) == (3, 6)
    got = {(r.file, r.row): (r.column, r.reason) for r in report.rejections.itertuples()}
    assert got[("opportunities.csv", 3)][0] == "account_id" and "does not exist" in got[("opportunities.csv", 3)][1]
    assert got[("opportunities.csv", 4)] == ("close_date", "is before created_date")
    assert got[("opportunities.csv", 6)][0] == "stage" and "Proposal" in got[("opportunities.csv", 6)][1]
    assert got[("opportunities.csv", 7)][0] == "is_closed"
    assert got[("opportunities.csv", 8)] == ("is_won", "is true but is_closed is false")
    assert got[("opportunities.csv", 9)] == ("created_date", "is not a date (YYYY-MM-DD)")
    assert got[("reps.csv", 2)][0] == "role" and "AE" in got[("reps.csv", 2)][1]
    assert got[("reps.csv", 3)] == ("end_date", "is before hire_date")
    assert got[("quotas.csv", 2)][0] == "period"
    with empty.reader() as cur:
        assert cur.execute("SELECT period FROM quotas").fetchall() == [("FY2027-Q2",)]
        assert cur.execute("SELECT stage, is_closed, is_won FROM opportunities WHERE opp_id = 'O9'").fetchone() == (
            "Closed Won",
            True,
            True,
        )
    for f in report.files:
        assert f.read == f.loaded + f.rejected


def test_missing_required_column_rejects_every_row(empty: Warehouse, tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "account_id,region\nA1,EMEA\nA2,NA\n")
    report = import_files(empty, [path])
    assert (report.read, report.loaded, report.rejected) == (2, 0, 2)
    assert set(report.rejections["reason"]) == {"the file has no name column (required)"}


def test_strict_loads_nothing_and_creates_no_members(empty: Warehouse, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "accounts.csv",
        ACCOUNTS_HEADER + "A1,Ok,Nordics,SMB,1,SE,0,false,1\nA2,Bad,Nordics,SMB,1,SE,x,false,1\n",
    )
    report = import_files(empty, [path], strict=True)
    assert not report.committed and report.loaded == 0 and report.rejected == 1
    assert count(empty, "accounts") == 0 and count(empty, "regions") == 0 and count(empty, "imports") == 0


def test_failure_midway_leaves_warehouse_unchanged(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "account_id,name\nA1,Acme\n")
    (tmp_path / "reps.csv").write_bytes(b"rep_id,name\nR1,Ren\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(InputError, match="not UTF-8") as info:
        import_files(empty, [tmp_path])
    assert "UTF-8" in (info.value.hint or "")
    assert count(empty, "accounts") == 0 and count(empty, "reps") == 0


def test_unknown_files_and_paths(empty: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="which table"):
        import_files(empty, [write(tmp_path, "customers.csv", "a\n1\n")])
    with pytest.raises(NotFoundError):
        import_files(empty, [tmp_path / "missing.csv"])
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    with pytest.raises(InputError, match=r"no \.csv"):
        import_files(empty, [empty_dir])


def test_empty_and_header_only_files_read_nothing(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "accounts.csv", "")
    write(tmp_path, "reps.csv", "rep_id,name\n\n")
    report = import_files(empty, [tmp_path])
    assert report.committed and report.read == 0


def test_values_are_normalised(empty: Warehouse, tmp_path: Path) -> None:
    write(tmp_path, "regions.csv", "name\nEMEA\n")
    write(
        tmp_path,
        "accounts.csv",
        "Account_ID ; Name ; Region ; Zip ; Country ; ARR ; Is_Strategic\n"  # semicolons, odd case
        'A1;"Multi\nLine Co";emea;2139;us;"1,200.50";yes\n'  # quoted field spans two lines
        "A2;Plain;EMEA;02139-4307;US;$300;0\n"
        "A3;Bad;EMEA;02139;US;x;0\n",
    )
    report = import_files(empty, [tmp_path])
    assert reasons(report) == [(5, "arr", "is not a number")]  # row counts the extra line
    with empty.reader() as cur:
        rows = cur.execute(
            "SELECT account_id, region, zip, country, arr, is_strategic FROM accounts ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("A1", "EMEA", "02139", "US", 1200.5, True),
        ("A2", "EMEA", "02139", "US", 300.0, False),
    ]
    assert report.created_members == {}


def test_parquet_files_import(empty: Warehouse, tmp_path: Path) -> None:
    target = tmp_path / "bookings.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES (DATE '2026-01-05', 10.0, 'NA'), (DATE '2026-02-05', 20.0, NULL))"
        f" t(date, amount, region)) TO '{target}' (FORMAT parquet)"
    )
    report = import_files(empty, [tmp_path / "bookings.parquet"])
    assert (report.read, report.loaded) == (2, 2)
    with empty.reader() as cur:
        assert cur.scalar("SELECT sum(amount) FROM bookings") == 30.0


def test_comp_plan_tiers_are_validated(empty: Warehouse, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "comp_plans.csv",
        "plan_id,name,variable_share,accelerators\n"
        'P1,Good,0.5,"[{""from"": 1.0, ""multiplier"": 1.5}]"\n'
        'P2,Unsorted,0.5,"[{""from"": 1.5, ""multiplier"": 2}, {""from"": 1.0, ""multiplier"": 1.5}]"\n'
        "P3,Not JSON,0.5,[oops\n"
        "P4,Too much,1.5,\n",
    )
    report = import_files(empty, [path])
    assert [(r, c) for r, c, _ in reasons(report)] == [
        (3, "accelerators"),
        (4, "accelerators"),
        (5, "variable_share"),
    ]


def test_salesforce_exports(empty: Warehouse) -> None:
    folder = SAMPLES / "salesforce"
    report = import_files(empty, sorted(folder.glob("*.csv")), format="salesforce")
    assert report.committed and report.rejected == 0
    assert [f.table for f in report.files] == ["reps", "accounts", "stages", "opportunities"]
    notes = " ".join(n for f in report.files for n in f.notes)
    assert "Jane Unknown" in notes and "inactive" in notes
    with empty.reader() as cur:
        acc = dict(
            (r[0], r[1:])
            for r in cur.execute(
                "SELECT name, region, segment, country, zip, owner_rep_id, employees FROM accounts"
            ).fetchall()
        )
        opps = {
            r[0]: r[1:]
            for r in cur.execute(
                "SELECT opp_id, amount, close_date::VARCHAR, is_closed, is_won, type, stage FROM opportunities"
            ).fetchall()
        }
        reps = {r[0]: r[1:] for r in cur.execute("SELECT name, role, manager_id, end_date FROM reps").fetchall()}
        stage = cur.execute(
            "SELECT default_probability, is_closed FROM stages WHERE name = 'Negotiation/Review'"
        ).fetchone()
    assert acc["Harborview Logistics, Inc."] == (
        "NA",
        "Mid-Market",
        "US",
        "02110",
        "0055e000001AbCe",
        1250,
    )
    assert acc["Norrland Energi AB"][:3] == ("EMEA", "Enterprise", "SE")
    assert acc["Kestrel Analytics"][:2] == ("NA", "SMB") and acc["Kestrel Analytics"][4] is None
    assert opps["0065e00000Op001"] == (84500.0, "2026-03-28", True, True, "Expansion", "Closed Won")
    assert opps["0065e00000Op005"][0] == 1_200_000.0 and opps["0065e00000Op005"][4] == "Renewal"
    assert reps["Dana Whitfield"][0] == "Manager" and reps["Marco Reyes"][:2] == (
        "AE",
        "0055e000001AbCd",
    )
    assert reps["Tom Becker"][2] is not None  # inactive: given an end date
    assert stage == (0.9, False)


def test_salesforce_kind_is_detected(empty: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a Salesforce"):
        import_files(empty, [write(tmp_path, "x.csv", "foo,bar\n1,2\n")], format="salesforce")


def test_concurrent_imports_from_two_processes_both_land(empty: Warehouse, tmp_path: Path) -> None:
    files = []
    for i in range(2):
        rows = "".join(f"2026-01-{d:02d},{i * 1000 + d}\n" for d in range(1, 29))
        files.append(write(tmp_path, f"bookings_{i}.csv", "date,amount\n" + rows))
    code = (
        "import sys; from warehouse.connection import Warehouse; from warehouse.importers import import_files;"
        "r = import_files(Warehouse(sys.argv[1], writable=True, lock_timeout=60), [sys.argv[2]]);"
        "print(r.loaded)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(empty.path), str(f)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for f in files
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outputs == ["28", "28"]
    assert count(empty, "bookings") == 56
