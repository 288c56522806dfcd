"""The audit trail as a careful tamperer meets it: header edits, deleted runs, a run rolled back
to an earlier signed state, a rebuilt ledger, a restored file, sealing earlier runs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.cli import app
from interfaces.compose import checkpointer
from interfaces.settings import get_settings
from warehouse import audit, audit_ledger
from warehouse.connection import Warehouse
from warehouse.identity import Scope, User

KEY = b"audit-key-for-tests"
CRO = User("cro", "leader", Scope.everything())


def _agent(path: Path, key: bytes | None = None) -> PlanningAgent:
    return PlanningAgent(Warehouse(path, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:"),
                         audit_key=key)  # fmt: skip


@pytest.fixture
def trail(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    return path


def _broken(path: Path, key: bytes | None = None, anchor: str | None = None) -> dict[str, str]:
    """run id (or '-' for the ledger) -> the kind of problem verification names."""
    with Warehouse(path).reader() as cur:
        return {v.run_id: str(v.kind) for v in audit.verify_all(cur, key, anchor) if not v.ok}


def _rebuild_ledger(path: Path) -> None:
    """What a tamperer without the key can do: recompute every ledger entry so the chain holds
    (their signatures cannot be recomputed, so they are dropped)."""
    with Warehouse(path, writable=True).writer() as cur:
        rows = cur.execute("SELECT seq, run_id, event, recorded_at FROM audit_ledger ORDER BY seq").fetchall()
        cur.execute("DELETE FROM audit_ledger")
        prev = audit_ledger.GENESIS
        for new_seq, (_, run_id, event, at) in enumerate(rows, start=1):
            header = audit_ledger.read_header(cur, run_id)
            if header is None:
                continue
            digest = audit_ledger.header_digest(header)
            new_hash = audit_ledger.entry_hash(prev, new_seq, run_id, event, digest, at)
            cur.execute("INSERT INTO audit_ledger VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                        [new_seq, run_id, event, digest, at, prev, new_hash])  # fmt: skip
            prev = new_hash


@pytest.mark.parametrize(
    ("column", "value"),
    [("user_id", "someone-else"), ("question", "a harmless question"), ("answer", "All fine."),
     ("status", "error"), ("started_at", "2020-01-01 00:00:00"), ("interface", "slack")],
)  # fmt: skip
def test_an_edited_header_field_is_caught_without_a_key(trail: Path, column: str, value: Any) -> None:
    run_id = _agent(trail).ask("Check the data quality").run_id
    assert _broken(trail) == {}
    with Warehouse(trail, writable=True).writer() as cur:
        cur.execute(f"UPDATE audit_runs SET {column} = ? WHERE run_id = ?", [value, run_id])
    assert _broken(trail) == {run_id: "header_edited"}


def test_a_deleted_run_is_caught_with_and_without_a_key(trail: Path) -> None:
    agent = _agent(trail, KEY)
    gone, kept = agent.ask("Check the data quality").run_id, agent.ask("What scenarios do we have?").run_id
    with Warehouse(trail, writable=True).writer() as cur:
        cur.execute("DELETE FROM audit_steps WHERE run_id = ?", [gone])
        cur.execute("DELETE FROM audit_runs WHERE run_id = ?", [gone])
    assert _broken(trail) == {gone: "run_deleted"}
    assert _broken(trail, KEY) == {gone: "run_deleted"}

    # Also deleting its ledger entries leaves a gap in the chain.
    with Warehouse(trail, writable=True).writer() as cur:
        cur.execute("DELETE FROM audit_ledger WHERE run_id = ?", [gone])
    assert _broken(trail)["-"] == "ledger_cut"

    # A tamperer who renumbers and rehashes the ledger passes the chain, but not the key.
    _rebuild_ledger(trail)
    assert _broken(trail) == {}  # the honest limit without a key: see the anchor test
    assert set(_broken(trail, KEY).values()) == {"unsigned"}
    with Warehouse(trail).reader() as cur:
        assert audit.verify(cur, kept, KEY).kind == "unsigned"


def test_a_run_rolled_back_to_its_earlier_signed_state_is_caught(trail: Path) -> None:
    """After an approval is applied, putting the run back as it stood while waiting (the approval
    and the write gone from the trail) used to pass verification, with or without the key."""
    agent = _agent(trail, KEY)
    agent.ask("What if we raise EMEA quotas 10%? save it as emea-plus-ten")
    waiting = agent.ask("apply the emea-plus-ten scenario", thread_id="apply")
    assert waiting.status == "needs_approval"
    wh = Warehouse(trail, writable=True)
    with wh.reader() as cur:
        header = cur.execute("SELECT * FROM audit_runs WHERE run_id = ?", [waiting.run_id]).df()
        kept_steps = int(header["steps"][0])
    approved = agent.resume("apply", approved=True, user=CRO)
    assert approved.status == "ok" and approved.run_id == waiting.run_id
    assert _broken(trail, KEY) == {}

    with wh.writer() as cur:  # restore the run's rows as they were before the approval
        cur.execute("DELETE FROM audit_steps WHERE run_id = ? AND seq > ?", [waiting.run_id, kept_steps])
        cur.execute("DELETE FROM audit_runs WHERE run_id = ?", [waiting.run_id])
        cur.register("before", header)
        cur.execute("INSERT INTO audit_runs SELECT * FROM before")
    with wh.reader() as cur:
        steps = audit.steps(cur, waiting.run_id)
    assert not any("approved by cro" in (s.summary or "") for s in steps)  # the approval is gone...
    assert _broken(trail) == {waiting.run_id: "rolled_back"}  # ...and that is caught, key or not
    assert _broken(trail, KEY) == {waiting.run_id: "rolled_back"}


def test_the_anchor_catches_a_roll_back_of_the_whole_file(trail: Path, tmp_path: Path) -> None:
    agent = _agent(trail, KEY)
    agent.ask("Check the data quality")
    backup = tmp_path / "before.duckdb"
    shutil.copy(trail, backup)
    agent.ask("What scenarios do we have?")
    runner = CliRunner()
    printed = runner.invoke(app, ["-w", str(trail), "audit", "anchor"])
    assert printed.exit_code == 0, printed.output
    head = printed.stdout.strip()
    assert runner.invoke(app, ["-w", str(trail), "audit", "verify", "--anchor", head]).exit_code == 0

    shutil.copy(backup, trail)  # the whole file put back: every signature in it is genuine
    assert _broken(trail, KEY) == {}
    caught = runner.invoke(app, ["-w", str(trail), "audit", "verify", "--anchor", head])
    assert caught.exit_code == 3 and "BROKEN (anchor)" in caught.stderr
    bad = runner.invoke(app, ["-w", str(trail), "audit", "verify", "--anchor", "12:nothex"])
    assert bad.exit_code == 3 and "SEQ:HASH" in bad.stderr


def test_earlier_runs_are_sealed_once_and_sealing_never_hides_an_edit(
    trail: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = _agent(trail)  # no key yet
    first, second = agent.ask("Check the data quality").run_id, agent.ask("What scenarios do we have?").run_id
    with Warehouse(trail, writable=True).writer() as cur:
        cur.execute("DELETE FROM audit_ledger")  # as a warehouse written before the ledger existed
    assert _broken(trail) == {first: "unsealed", second: "unsealed"}

    monkeypatch.setenv("SPM_AUDIT_KEY", KEY.decode())
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = runner.invoke(app, ["-w", str(trail), "audit", "verify"])
        assert listed.exit_code == 3 and "spm audit seal" in listed.stderr
        sealed = runner.invoke(app, ["-w", str(trail), "audit", "seal"])
        assert sealed.exit_code == 0 and "Sealed 2 earlier run(s) and signed" in sealed.stdout, sealed.output
        assert _broken(trail, KEY) == {}
        with Warehouse(trail).reader() as cur:
            seal_run = cur.execute("SELECT user_id, question FROM audit_runs WHERE run_id LIKE 'seal-%'").fetchall()
        assert seal_run == [("local", "spm audit seal")]  # the sealing is itself on the record

        with Warehouse(trail, writable=True).writer() as cur:
            cur.execute("UPDATE audit_runs SET answer = 'edited' WHERE run_id = ?", [first])
        refused = runner.invoke(app, ["-w", str(trail), "audit", "seal"])
        assert refused.exit_code == 5 and "header_edited" in refused.stderr
        assert _broken(trail, KEY) == {first: "header_edited"}

        monkeypatch.setenv("SPM_USER", "rep")
        get_settings.cache_clear()
        rep = runner.invoke(app, ["-w", str(trail), "audit", "seal"])
        assert rep.exit_code == 8 and "may not seal" in rep.stderr
    finally:
        get_settings.cache_clear()


def test_enabling_a_key_marks_unsigned_records_until_sealed(trail: Path) -> None:
    _agent(trail).ask("Check the data quality")
    assert _broken(trail) == {}
    assert set(_broken(trail, KEY).values()) == {"unsigned"}
    audit.seal(Warehouse(trail, writable=True), user_id="local", code_version="test", key=KEY)
    assert _broken(trail, KEY) == {}
    signed = _agent(trail, KEY).ask("What scenarios do we have?")
    assert _broken(trail, KEY) == {}
    with Warehouse(trail).reader() as cur:
        assert audit.verify(cur, signed.run_id, b"another key").kind == "signature"
