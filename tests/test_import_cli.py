"""`spm data import` through the CLI runner: the reported outcome is the committed outcome.

Refusals of a --rejects path happen before anything is imported; once an import has committed,
nothing (markup in a rejected value, a full disk under the rejects file) can fail the command;
rejects files are safe to open in a spreadsheet; mapping files and dry runs.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from interfaces.cli import app
from interfaces.csv_safety import frame_to_csv, neutralise
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import get_settings
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.importers.loader import FileReport
from warehouse.importers.mapping import ColumnMapping, load_mapping, suggest_columns
from warehouse.importers.run import ImportReport

runner = CliRunner()
COUNTED = ("accounts", "regions", "imports", "audit_runs", "audit_steps")
ACCOUNTS = "account_id,name,arr\nA1,Acme,10\nA2,Bad,x\n"


def spm(*args: str) -> Result:
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


def counts(path: Path) -> dict[str, int]:
    """Rows per table: what an import or its audit run would change."""
    with Warehouse(path).reader() as cur:
        return {t: int(cur.scalar(f"SELECT count(*) FROM {t}")) for t in COUNTED}


def account_ids(path: Path) -> set[str]:
    with Warehouse(path).reader() as cur:
        return {r[0] for r in cur.execute("SELECT account_id FROM accounts").fetchall()}


@pytest.fixture
def wh(empty: Warehouse) -> Path:
    return empty.path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """An input folder holding accounts.csv: one good row, one rejected."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    return folder


# --- --rejects is checked before anything is imported --------------------------------------


def _refusals(tmp_path: Path, data: Path, wh: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (extra arguments, the words of the fix the hint must give)."""
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me\n")
    linked = tmp_path / "linked.csv"
    os.link(data / "accounts.csv", linked)  # another name for the input file
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Customer Number: account_id\n")
    return {
        "folder": (["--rejects", str(tmp_path)], "Name a file"),
        "input file": (["--rejects", str(data / "accounts.csv")], "Name another file"),
        "input file by another path": (["--rejects", str(data / ".." / "in" / "accounts.csv")], "Name another file"),
        "hard link to the input": (["--rejects", str(linked)], "Name another file"),
        "inside the input folder": (["--rejects", str(data / "rejects.csv")], "outside the input folders"),
        "existing file": (["--rejects", str(existing)], "--force"),
        "missing folder": (["--rejects", str(tmp_path / "nowhere" / "r.csv")], "mkdir -p"),
        "the warehouse": (["--rejects", str(wh), "--force"], "Name another file"),
        "the mapping": (["--rejects", str(mapping), "--force", "--map", str(mapping)], "Name another file"),
        "force alone": (["--force"], "Leave out --force"),
    }


REFUSALS = (
    "folder",
    "input file",
    "input file by another path",
    "hard link to the input",
    "inside the input folder",
    "existing file",
    "missing folder",
    "the warehouse",
    "the mapping",
    "force alone",
)


@pytest.mark.parametrize("case", REFUSALS)
def test_a_rejects_path_that_cannot_be_written_is_refused_before_importing(
    case: str, wh: Path, data: Path, tmp_path: Path
) -> None:
    args, fix = _refusals(tmp_path, data, wh)[case]
    before = counts(wh)
    source = data if case == "inside the input folder" else data / "accounts.csv"
    result = spm("-w", str(wh), "data", "import", str(source), *args)
    assert result.exit_code == EXIT_CODES["input"], result.output
    assert fix in result.stderr and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert counts(wh) == before  # nothing imported, no audit run
    assert (data / "accounts.csv").read_text() == ACCOUNTS
    if case == "existing file":
        assert (tmp_path / "existing.csv").read_text() == "keep me\n"
    if case == "inside the input folder":
        assert not (data / "rejects.csv").exists()


def test_a_rejects_file_deeper_inside_an_imported_folder_is_refused(wh: Path, data: Path) -> None:
    (data / "sub").mkdir()
    result = spm("-w", str(wh), "data", "import", str(data), "--rejects", str(data / "sub" / "rejects.csv"))
    assert result.exit_code == EXIT_CODES["input"] and "inside the folder" in result.stderr
    assert account_ids(wh) == set()


def test_force_replaces_an_existing_rejects_file(wh: Path, data: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("old\n")
    result = spm("-w", str(wh), "data", "import", str(data), "--rejects", str(rejects), "--force")
    assert result.exit_code == EXIT_PARTIAL, result.output
    rows = list(csv.DictReader(io.StringIO(rejects.read_text())))
    assert [(r["row"], r["column"], r["value"]) for r in rows] == [("3", "arr", "x")]
    assert account_ids(wh) == {"A1"}


# --- nothing after the commit fails the command --------------------------------------------


def test_markup_in_the_data_is_shown_as_text_and_the_import_stands(wh: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "accounts_[bold].csv").write_text(
        "account_id,name,arr,region,[/]note\nA1,Acme,10,[red]West,x\nA2,Bad,[/],EMEA,y\nA3,Worse,[bold]x,EMEA,z\n"
        "A4,Smile,:smile:,EMEA,w\n"
    )
    result = spm("-w", str(wh), "data", "import", str(folder))
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "[/]" in result.stdout and "[bold]x" in result.stdout and ":smile:" in result.stdout
    assert "accounts_[bold].csv" in result.stdout
    assert "[/]note" in result.stderr and "[red]West" in result.stderr  # ignored column, created member
    assert "read 4 = loaded 1 + rejected 3 (committed)." in result.stderr
    assert account_ids(wh) == {"A1"}


def _full_disk_for(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing `target` fails as on a full disk; every other write works."""
    import warehouse.files

    real = warehouse.files.write_atomically

    def writer(path: Path | str, text: str) -> None:
        if Path(path) == target:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(warehouse.files, "write_atomically", writer)


@pytest.mark.parametrize("json_", [False, True])
def test_a_rejects_file_that_cannot_be_written_after_the_commit_is_a_warning(
    json_: bool, wh: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rejects = tmp_path / "rejects.csv"
    _full_disk_for(rejects, monkeypatch)
    args = ["--json"] if json_ else []
    result = spm("-w", str(wh), "data", "import", str(data), "--rejects", str(rejects), *args)
    assert result.exit_code == EXIT_PARTIAL, result.output  # the import's own code, not 1 or 9
    assert "warning:" in result.stderr and f"--rejects {rejects} was not written" in result.stderr
    assert "No space left" in result.stderr and "internal error" not in result.stderr
    assert "The import is committed: read 2 = loaded 1 + rejected 1." in result.stderr
    assert account_ids(wh) == {"A1"} and not rejects.exists()
    if json_:
        report = json.loads(result.stdout)
        assert report["committed"] and report["loaded"] == 1 and "was not written" in report["warnings"][0]


def test_a_clean_import_keeps_exit_0_when_its_rejects_file_fails(
    wh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "accounts.csv"
    good.write_text("account_id,name\nA1,Acme\n")
    rejects = tmp_path / "rejects.csv"
    _full_disk_for(rejects, monkeypatch)
    result = spm("-w", str(wh), "data", "import", str(good), "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "was not written" in result.stderr and "loaded 1 + rejected 0" in result.stderr
    assert account_ids(wh) == {"A1"}


def test_a_report_that_cannot_be_rendered_still_reports_the_commit(
    wh: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import interfaces.data_cli

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("terminal gone")

    monkeypatch.setattr(interfaces.data_cli, "_render_import", broken)
    result = spm("-w", str(wh), "data", "import", str(data))
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "could not be shown" in result.stderr and "The import is committed" in result.stderr
    assert account_ids(wh) == {"A1"}


# --- rejects files are safe to open in a spreadsheet ----------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+2", "-2+3"]


def test_formula_cells_in_the_rejects_file_are_neutralised(wh: Path, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    lines = ["account_id,name,arr"] + [f"A{i},Name {i},{_csv_cell(v)}" for i, v in enumerate(FORMULAS)]
    source.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.csv"
    result = spm("-w", str(wh), "data", "import", str(source), "--rejects", str(rejects))
    assert result.exit_code == EXIT_PARTIAL, result.output
    rows = list(csv.DictReader(io.StringIO(rejects.read_text())))
    assert [r["value"] for r in rows] == ["'" + v for v in FORMULAS]
    assert [r["row"] for r in rows] == ["2", "3", "4", "5"]  # numbers stay numbers
    assert all(r["file"] == "accounts.csv" and r["column"] == "arr" for r in rows)


def _csv_cell(value: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()


def test_neutralise_follows_owasp() -> None:
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{prefix}x") == f"'{prefix}x"
    assert neutralise("-5") == "'-5"  # in a text column a leading minus is text too
    assert neutralise("plain") == "plain" and neutralise("a=b") == "a=b" and neutralise("") == ""
    assert neutralise(-5) == -5 and neutralise(None) is None
    frame = pd.DataFrame({"file": ["=f.csv"], "row": [3], "value": [None]})
    assert frame_to_csv(frame) == "file,row,value\n'=f.csv,3,\n"


def test_batch_csv_output_is_neutralised() -> None:
    from interfaces.batch_io import _csv

    record: dict[str, Any] = {
        "index": 1,
        "prompt": "=cmd|' /C calc'!A0",
        "tags": {"@team": "+sales"},
        "run_id": "run-1",
        "status": "ok",
        "answer": "-2 reps",
        "recommendations": [],
        "metrics": {},
    }
    rows = list(csv.reader(io.StringIO(_csv([record]))))
    assert "'@team" in rows[0]
    assert rows[1][:3] == ["1", "'=cmd|' /C calc'!A0", "'+sales"] and "'-2 reps" in rows[1]


# --- mapping files ----------------------------------------------------------------------------


def test_a_mapping_file_loads_and_merges_per_table(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:            # every file\n"
        "  Region__c: region\n"
        "  Segment__c: segment\n"
        "tables:\n"
        "  accounts:\n"
        "    Customer Number: account_id\n"
        "    Sales-Region: region\n"
        "  quotas:\n"
    )
    mapping = load_mapping(path)
    assert mapping == ColumnMapping(
        columns={"region__c": "region", "segment__c": "segment"},
        tables={"accounts": {"customer_number": "account_id", "sales_region": "region"}},
    )
    # the table's own entry for `region` wins over the company-wide one
    assert mapping.for_table("accounts") == {
        "segment__c": "segment",
        "customer_number": "account_id",
        "sales_region": "region",
    }
    assert mapping.for_table("targets") == {"region__c": "region", "segment__c": "segment"}
    assert mapping.for_table("quotas") == {}  # no region or segment column there


BAD_MAPPINGS = {
    "not yaml": ("columns: [a\n", "not valid YAML at line 2"),
    "a list": ("- Region__c\n- region\n", "not a list"),
    "empty": ("", "is empty"),
    "unknown section": ("colums:\n  Region__c: region\n", "unknown section 'colums' (did you mean 'columns'?)"),
    "columns not a mapping": ("columns: region\n", "expected `Source header: column` lines"),
    "unknown table": ("tables:\n  acounts:\n    X: account_id\n", "unknown table 'acounts' (did you mean 'accounts'?)"),
    "not a column of the table": (
        "tables:\n  accounts:\n    Quota: amount\n",
        "'Quota' maps to 'amount', which is not a column of that table",
    ),
    "a close column is suggested": (
        "tables:\n  accounts:\n    Customer: acount_id\n",
        "(did you mean 'account_id'?)",
    ),
    "not a column of any table": ("columns:\n  X: regoin\n", "not a column of any table (did you mean 'region'?)"),
    "two sources onto one target": (
        "tables:\n  accounts:\n    Customer Number: account_id\n    Account Number: account_id\n",
        "two headers map onto 'account_id'",
    ),
    "the same header twice": ("columns:\n  Region__c: region\n  region__C: segment\n", "listed twice"),
    "a key twice": ("columns:\n  Region__c: region\n  Region__c: segment\n", "given twice"),
    "a boolean header": ("columns:\n  yes: region\n", "Quote headers"),
    "no target": ("columns:\n  Region__c:\n", "not to a column name"),
    "maps nothing": ("tables:\n  accounts:\n", "maps no columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPPINGS))
def test_a_bad_mapping_file_names_its_problem(case: str, tmp_path: Path) -> None:
    text, words = BAD_MAPPINGS[case]
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_mapping(path)
    assert words in str(raised.value) and raised.value.hint  # the message and its fix


def test_a_missing_or_binary_mapping_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No mapping file"):
        load_mapping(tmp_path / "none.yaml")
    binary = tmp_path / "map.yaml"
    binary.write_bytes(b"\xff\xfe\x00columns")
    with pytest.raises(InputError, match="not UTF-8"):
        load_mapping(binary)


def test_a_bad_mapping_file_imports_nothing(wh: Path, data: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  acounts:\n    X: account_id\n")
    before = counts(wh)
    result = spm("-w", str(wh), "data", "import", str(data), "--map", str(mapping))
    assert result.exit_code == EXIT_CODES["input"] and "did you mean 'accounts'" in result.stderr
    assert counts(wh) == before


def test_suggestions_for_unknown_headers() -> None:
    known = ["account_id", "name", "region", "segment", "close_date"]
    assert suggest_columns(["Regoin"], known) == {"Regoin": "region"}
    assert suggest_columns(["Region__c"], known) == {"Region__c": "region"}
    assert suggest_columns(["Close Date", "Segment__c", "Notes"], known) == {
        "Close Date": "close_date",
        "Segment__c": "segment",
    }
    assert suggest_columns(["Account_Name__c"], known) == {}  # no column is close enough
    assert suggest_columns(["regoin", "Region__c"], known) == {"Region__c": "region"}  # the closer one


def test_suggestions_are_shown_with_the_report() -> None:
    """Rendered from the report (FileReport.suggestions), as text: `unknown column ... — did you mean`."""
    from interfaces.data_cli import _render_import
    from interfaces.output import err

    report = ImportReport(
        import_id="x",
        format="native",
        strict=False,
        committed=True,
        files=[
            FileReport(
                "accounts.csv",
                "accounts",
                read=1,
                loaded=1,
                ignored_columns=["regoin", "[/]notes"],
                suggestions={"regoin": "region"},
            )
        ],
        rejections=pd.DataFrame(columns=["file", "row", "column", "reason", "value"]),
    )
    with err().capture() as captured:
        _render_import(report)
    text = captured.get()
    assert "accounts.csv: unknown column 'regoin' — did you mean region?" in text
    assert "ignored unknown columns: [/]notes" in text


# --- import_files' new options (dry run, decimal comma, mapping) -----------------------------


def test_unknown_headers_get_suggestions_on_import(wh: Path, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("account_id,name,Regoin\nA1,Acme,EMEA\n")
    result = spm("-w", str(wh), "data", "import", str(source), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["suggestions"] == {"regoin": "region"}
    human = spm("-w", str(wh), "data", "import", str(source))
    assert "unknown column 'regoin' — did you mean region?" in human.stderr


def test_a_dry_run_writes_nothing_and_shows_what_would_load(wh: Path, data: Path, tmp_path: Path) -> None:
    before = counts(wh)
    result = spm("-w", str(wh), "data", "import", str(data), "--dry-run")
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "Dry run" in result.stdout and "would load" in result.stdout
    assert "read 2 = would load 1 + rejected 1 (dry run: nothing written)." in result.stderr
    assert "is not a number" in result.stdout  # the rejected rows
    assert counts(wh) == before  # no rows, no import record, no audit run

    as_json = spm("-w", str(wh), "data", "import", str(data), "--dry-run", "--json")
    report = json.loads(as_json.stdout)
    assert report["dry_run"] and not report["committed"] and (report["read"], report["rejected"]) == (2, 1)
    assert report["would_load"] == 1 and report["files"][0]["would_load"] == 1
    assert counts(wh) == before

    (data / "accounts.csv").write_text("account_id,name,arr\nA1,Acme,10\n")
    clean = spm("-w", str(wh), "data", "import", str(data), "--dry-run")
    assert clean.exit_code == 0, clean.output
    assert counts(wh) == before


def test_a_dry_run_shows_the_mapping_it_used(wh: Path, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("Customer Number,name,Region__c\nA1,Acme,EMEA\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Region__c: region\ntables:\n  accounts:\n    Customer Number: account_id\n")
    result = spm("-w", str(wh), "data", "import", str(source), "--map", str(mapping), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "region__c → region" in result.stderr and "customer_number → account_id" in result.stderr
    assert account_ids(wh) == set()
    done = spm("-w", str(wh), "data", "import", str(source), "--map", str(mapping))
    assert done.exit_code == 0, done.output
    assert account_ids(wh) == {"A1"}
    with Warehouse(wh).reader() as cur:
        assert cur.scalar("SELECT region FROM accounts") == "EMEA"


def test_a_decimal_comma(wh: Path, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("account_id;name;arr\nA1;Acme;1.234,50\n")
    result = spm("-w", str(wh), "data", "import", str(source), "--decimal", ",")
    assert result.exit_code == 0, result.output
    with Warehouse(wh).reader() as cur:
        assert cur.scalar("SELECT arr FROM accounts WHERE account_id = 'A1'") == pytest.approx(1234.5)
