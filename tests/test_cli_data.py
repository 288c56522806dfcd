"""`spm` data commands through the CLI runner: output, JSON, exit codes, clear errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from interfaces.cli import app
from interfaces.data_cli import TOUR_QUESTIONS
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def spm(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    return runner.invoke(app, list(args), env=env)


def test_version_and_help() -> None:
    assert spm("--version").stdout.startswith("spm-agent ")
    result = spm("--help")
    assert result.exit_code == 0
    assert "data" in result.stdout and "demo" in result.stdout
    for sub in (
        ["data", "init"],
        ["data", "import"],
        ["data", "check"],
        ["data", "summary"],
        ["data", "migrate"],
        ["demo"],
    ):
        assert spm(*sub, "--help").exit_code == 0


def test_the_cli_starts_without_loading_the_tools() -> None:
    """`spm --help` and `spm --version` answer in a fraction of a second: the command tree
    imports no tool, no pandas, no DuckDB (they load with the command that needs them)."""
    code = (
        "import sys; import interfaces.cli; "
        "heavy = [m for m in ('pandas', 'duckdb', 'numpy', 'tools.registry', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_init_refuses_to_overwrite_and_validates(tmp_path: Path) -> None:
    path = str(tmp_path / "w.duckdb")
    first = spm("-w", path, "data", "init", "--fiscal-start", "4", "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["meta"]["fiscal_year_start_month"] == "4"
    again = spm("-w", path, "data", "init")
    assert again.exit_code == EXIT_CODES["conflict"]
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    assert spm("-w", path, "data", "init", "--demo", "--fiscal-start", "3").exit_code == EXIT_CODES["input"]
    assert spm("-w", path, "data", "init", "--size", "large").exit_code == EXIT_CODES["input"]
    bad_date = spm("-w", path, "data", "init", "--demo", "--as-of", "29/11/2026", "--force")
    assert bad_date.exit_code == EXIT_CODES["input"] and "YYYY-MM-DD" in bad_date.stderr


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.duckdb"
    result = spm("data", "init", env={"SPM_WAREHOUSE": str(path), "SPM_FISCAL_YEAR_START_MONTH": "7"})
    assert result.exit_code == 0, result.stderr
    assert path.exists()
    bad = spm(
        "data",
        "init",
        env={"SPM_WAREHOUSE": str(tmp_path / "x.duckdb"), "SPM_FISCAL_YEAR_START_MONTH": "13"},
    )
    assert bad.exit_code == EXIT_CODES["input"] and "fiscal_year_start_month" in bad.stderr


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = spm("-w", str(tmp_path / "none.duckdb"), "data", "summary")
    assert result.exit_code == EXIT_CODES["not_found"]
    assert "spm data init --demo" in result.stderr and "Traceback" not in result.stderr


def test_summary_and_check_json(demo_path: Path) -> None:
    summary = spm("-w", str(demo_path), "data", "summary", "--json")
    assert summary.exit_code == 0
    data = json.loads(summary.stdout)
    assert data["fiscal_year"] == "FY2027" and data["quarter"] == "FY2027-Q4"
    assert data["counts"]["accounts"] > 1000 and len(data["bookings_by_year"]) == 4
    human = spm("-w", str(demo_path), "data", "summary")
    assert "Bookings by fiscal year" in human.stdout

    check = spm("-w", str(demo_path), "data", "check", "--json")
    assert check.exit_code == 0
    findings = {f["check"]: f for f in json.loads(check.stdout)["findings"]}
    assert findings["zombie_opportunities"]["count"] > 0 and not findings["zombie_opportunities"]["ok"]
    failing = spm("-w", str(demo_path), "data", "check", "--fail-on", "error")
    assert failing.exit_code == EXIT_PARTIAL
    only = spm("-w", str(demo_path), "data", "check", "--only", "zombies")
    assert only.exit_code == EXIT_CODES["input"] and "zombie_opportunities" in only.stderr
    # One region's findings: a part of the whole, and zero where the region has none.
    emea = spm("-w", str(demo_path), "data", "check", "--filter", "region=EMEA", "--json")
    assert emea.exit_code == 0, emea.stderr
    sliced = {f["check"]: f for f in json.loads(emea.stdout)["findings"]}
    assert 0 < sliced["zombie_opportunities"]["count"] < findings["zombie_opportunities"]["count"]
    assert all(sliced[c]["count"] <= findings[c]["count"] for c in sliced)
    unknown = spm("-w", str(demo_path), "data", "check", "--filter", "region=Atlantis")
    assert unknown.exit_code == EXIT_CODES["input"] and "EMEA" in unknown.stderr


def test_import_exit_codes_and_rejects_file(empty, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "in"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,name,arr\nA1,Acme,10\nA2,Bad,x\n")
    rejects = tmp_path / "rejects.csv"
    partial = spm("-w", str(empty.path), "data", "import", str(data), "--json", "--rejects", str(rejects))
    assert partial.exit_code == EXIT_PARTIAL
    report = json.loads(partial.stdout)
    assert (report["read"], report["loaded"], report["rejected"]) == (2, 1, 1)
    assert report["rejections"][0]["row"] == 3 and report["rejections"][0]["column"] == "arr"
    assert "A2" not in rejects.read_text() and "arr" in rejects.read_text()

    (data / "accounts.csv").write_text("account_id,name,arr\nA3,Acme,10\nA4,Bad,x\n")
    strict = spm("-w", str(empty.path), "data", "import", str(data), "--strict")
    assert strict.exit_code == EXIT_CODES["input"] and "nothing was loaded" in strict.stderr
    ok = spm("-w", str(empty.path), "data", "import", str(ROOT / "data/samples/bookings_only"))
    assert ok.exit_code == 0 and "loaded" in ok.stderr


def test_locked_warehouse_exits_with_the_lock_code(empty) -> None:  # type: ignore[no-untyped-def]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('x', flush=True); time.sleep(30)",
            str(empty.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline()
        result = spm("-w", str(empty.path), "data", "summary", env={"SPM_LOCK_TIMEOUT": "0.3"})
        assert result.exit_code == EXIT_CODES["locked"]
        assert "in use by another process" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_migrate_upgrades_an_old_warehouse(tmp_path: Path) -> None:
    import duckdb

    from warehouse.migrate import latest_version, migrate

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=1)
    con.execute("INSERT INTO meta VALUES ('fiscal_year_start_month', '1')")
    con.close()
    assert spm("-w", str(path), "data", "summary").exit_code == EXIT_CODES["schema"]
    result = spm("-w", str(path), "data", "migrate", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema_version"] == latest_version()
    assert spm("-w", str(path), "data", "summary").exit_code == 0


@pytest.mark.slow
def test_demo_builds_once_and_tours(tmp_path: Path, demo_path: Path) -> None:
    target = tmp_path / "demo.duckdb"
    env = {"SPM_DEMO_WAREHOUSE": str(target)}
    result = spm("demo", env=env)
    assert result.exit_code == 0, result.stderr
    assert "Built the demo company" in result.stderr
    assert "Data checks" in result.stdout and "Bookings by fiscal year" in result.stdout
    assert "spm audit show" in result.stdout
    # Every command the tour ends with runs on the demo warehouse as printed (not the default one).
    shown = [line.strip() for line in result.stdout.splitlines() if line.startswith("  spm ")]
    assert shown and all(line.startswith(f"spm -w {target} ") for line in shown), shown
    assert f"  export SPM_WAREHOUSE={target}\n" in result.stdout
    assert spm(*shown[0].split()[1:3], "data", "summary").exit_code == 0
    # The figures a new user cannot read unaided are explained where they appear.
    assert "MASE" in result.stdout and "seasonal naive" in result.stdout
    # Whether the band is reachable depends on which deals are late-stage (locked) on the day the
    # demo is built, so the note is checked against the plan's own status line, both ways.
    flat = " ".join(result.stdout.split())
    status = re.search(r"Territory rebalance \(NA; Enterprise;.*?status (\w+)", flat)
    assert status, "the tour's territory answer states its status"
    note = "Status infeasible: no plan keeps every rep within +-10%" in flat
    assert note == (status.group(1) == "infeasible"), status.group(1)
    again = spm("demo", env=env)
    assert again.exit_code == 0 and "Built" not in again.stderr
    # Not rebuilt: the first tour's audited agent runs are still there next to the second's (and
    # the build's own run, which records who built the demo company).
    con = duckdb.connect(str(target), read_only=True)
    runs = con.execute("SELECT count(*) FROM audit_runs").fetchone()[0]
    con.close()
    assert runs == 2 * len(TOUR_QUESTIONS) + 1


def test_tour_notes_explain_mase_above_one_and_an_infeasible_plan_once() -> None:
    from agent.result import AgentResult
    from interfaces.data_cli import tour_notes

    def result(*tool_results: dict) -> AgentResult:  # type: ignore[type-arg]
        return AgentResult(
            run_id="r", thread_id="t", status="ok", answer="", model="m", tool_results=list(tool_results)
        )

    forecast = {"tool": "forecast", "metrics": {"backtest": {"mase": 1.79, "coverage_80": 0.81}}}
    territory = {"tool": "territory_rebalance", "metrics": {"status": "infeasible", "band": 0.1, "locked_accounts": 29}}
    explained: set[str] = set()
    notes = tour_notes(result(forecast, territory), explained)
    assert len(notes) == 2
    assert notes[0].startswith("MASE 1.79 is above 1") and "range (it held 81% of the actuals there)" in notes[0]
    assert "within +-10% with the 29 locked accounts" in notes[1] and "--band" in notes[1]
    assert tour_notes(result(forecast, territory), explained) == []  # once per tour
    good = {"tool": "forecast", "metrics": {"backtest": {"mase": 0.8}}}
    feasible = {"tool": "territory_rebalance", "metrics": {"status": "optimal", "band": 0.1}}
    assert tour_notes(result(good, feasible), set()) == []


def test_no_traceback_for_internal_errors_without_debug(tmp_path: Path) -> None:
    shutil.copy(ROOT / "data/samples/bookings_only/bookings.csv", tmp_path / "w.duckdb")
    result = spm("-w", str(tmp_path / "w.duckdb"), "data", "summary")
    assert result.exit_code == EXIT_CODES["input"]
    assert "not a DuckDB warehouse" in result.stderr and "Traceback" not in result.stderr


def test_calendar_change_is_for_approvers_audited_and_used_by_the_tools(
    demo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    w = ["-w", str(path)]
    shown = json.loads(spm(*w, "data", "calendar", "--json").stdout)
    assert shown["fiscal_year_start_month"] == 2
    assert spm(*w, "data", "calendar", "--fiscal-start", "2").exit_code == EXIT_CODES["input"]  # no change
    monkeypatch.setenv("SPM_USER", "rep")
    get_settings.cache_clear()
    refused = spm(*w, "data", "calendar", "--fiscal-start", "1")
    assert refused.exit_code == EXIT_CODES["permission"] and "may not change the calendar" in refused.stderr
    monkeypatch.delenv("SPM_USER")
    get_settings.cache_clear()
    changed = spm(*w, "data", "calendar", "--fiscal-start", "1")
    assert changed.exit_code == 0 and "from February to January" in changed.stderr
    after = json.loads(spm(*w, "data", "calendar", "--json").stdout)
    assert after["fiscal_year_start_month"] == 1 and after["current"]["quarter"] == "FY2026-Q4"
    runs = json.loads(spm(*w, "audit", "list", "--json").stdout)
    assert runs[0]["question"] == "spm data calendar --fiscal-start 1" and runs[0]["status"] == "ok"
    assert spm(*w, "audit", "verify").exit_code == 0
    forecast = json.loads(spm(*w, "forecast", "--grain", "quarter", "--horizon", "1", "--json").stdout)
    assert forecast["tables"]["forecast"][0]["period"] == "FY2027-Q1"  # Jan-Mar 2027 under the new calendar
