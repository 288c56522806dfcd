"""Trust that holds on the small demo: names people choose never break a terminal, a full or
refusing disk gets a clear error (never "internal error ... report it") and leaves nothing
half-written, what spm creates is private (0600 files, 0700 folders), and the Slack bot
listens on this machine only unless told otherwise."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support.openai_stub import OpenAIStub, completion
from typer.testing import CliRunner

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.cli import app
from interfaces.compose import checkpointer
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import Settings, get_settings
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.names import SCENARIO_NAME_EXAMPLE, SCENARIO_NAME_RULE, USER_ID_RULE
from warehouse.scenarios import save_scenario

EVIL = "evil[/]"  # rich reads "[/]" as a closing tag: printed as markup it raises MarkupError
runner = CliRunner()


def spm(*args: str):  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


@pytest.fixture
def warehouse_file(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test runner's: files default to 0644, folders to 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _scenarios(path: Path) -> list[str]:
    with Warehouse(path).reader() as cur:
        return [r[0] for r in cur.execute("SELECT name FROM scenarios ORDER BY name").fetchall()]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- names --------------------------------------------------------------------------------


def test_a_scenario_name_outside_the_rule_is_refused_before_anything_is_written(warehouse_file: Path) -> None:
    w = str(warehouse_file)
    for command in (["quota", "simulate", "--trials", "200"], ["territory", "rebalance", "--filter", "region=EMEA"]):
        refused = spm("-w", w, *command, "--save-scenario", EVIL)
        assert refused.exit_code == EXIT_CODES["input"], refused.output
        assert SCENARIO_NAME_RULE in refused.stderr and SCENARIO_NAME_EXAMPLE in refused.stderr
        assert "Traceback" not in refused.output and "internal error" not in refused.stderr
    assert _scenarios(warehouse_file) == []

    # The agent's tool call takes the same input model: the model reads the rule, nothing is saved.
    replies = [lambda body: completion(tool_calls=[{"name": "quota_simulate", "args": {"save_scenario": EVIL}}])]
    with OpenAIStub(replies, default=lambda body: completion(content="done")) as stub:
        agent = PlanningAgent(
            Warehouse(warehouse_file, writable=True),
            ModelSettings(provider="openai", base_url=stub.base_url, api_key="k", max_retries=0),
            checkpointer(":memory:"),
        )
        agent.ask("Simulate FY2028 quotas and save them as evil")
    tool_replies = [m["content"] for r in stub.requests for m in r["body"]["messages"] if m["role"] == "tool"]
    assert any(SCENARIO_NAME_RULE in t for t in tool_replies), tool_replies
    assert _scenarios(warehouse_file) == []

    # And the warehouse checks again, whoever calls it.
    with Warehouse(warehouse_file, writable=True).writer() as cur, pytest.raises(InputError, match="not allowed"):
        save_scenario(cur, name=EVIL, kind="quota", changes=[])
    assert _scenarios(warehouse_file) == []


def test_stored_scenario_names_with_markup_print_as_text(warehouse_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warehouses written before the rule may hold such names: list, show and compare print them."""
    from interfaces.output import out

    monkeypatch.setenv("COLUMNS", "240")  # wide enough that no table cuts a name short
    out.cache_clear()
    with Warehouse(warehouse_file, writable=True).writer() as cur:
        for sid, name in (("SCN-evil0001", EVIL), ("SCN-good0001", "plain-one")):
            cur.execute(
                "INSERT INTO scenarios VALUES (?, ?, 'quota', 'draft', NULL, current_timestamp, NULL, '{}', ?, ?)",
                [sid, name, f"summary of {name}", '{"total_quota": 100}'],
            )
    w = str(warehouse_file)
    for args in (["list"], ["show", EVIL], ["compare", EVIL, "plain-one"]):
        shown = spm("-w", w, "scenario", *args)
        assert shown.exit_code == 0, shown.output
        assert EVIL in shown.stdout
    missing = spm("-w", w, "scenario", "show", "missing[/]")
    assert missing.exit_code == EXIT_CODES["not_found"], missing.output
    assert "missing[/]" in missing.stderr and EVIL in missing.stderr  # the hint lists the known ones


def test_user_ids_follow_a_rule_and_stored_ones_print_as_text(warehouse_file: Path) -> None:
    w = str(warehouse_file)
    refused = spm("-w", w, "users", "add", EVIL, "--role", "analyst")
    assert refused.exit_code == EXIT_CODES["input"] and USER_ID_RULE in refused.stderr, refused.output
    with Warehouse(warehouse_file, writable=True).writer() as cur:
        cur.execute(
            "INSERT INTO users (user_id, name, role, scope_kind, created_at) VALUES (?, ?, 'analyst', 'all', current_timestamp)",
            [EVIL, EVIL],
        )
    noted = spm("-w", w, "memory", "add", "Keep [/] Acme with its owner", "--user", EVIL)
    assert noted.exit_code == 0, noted.output
    assert EVIL in noted.stdout and "Keep [/] Acme" in noted.stdout
    listed = spm("-w", w, "memory", "list", "--user", EVIL)
    assert listed.exit_code == 0 and EVIL in listed.stdout, listed.output
    removed = spm("-w", w, "users", "remove", EVIL)
    assert removed.exit_code == 0 and f"Removed {EVIL}." in removed.stderr, removed.output


# --- disk full, permission denied, read-only ----------------------------------------------


def _business_rows(path: Path) -> str:
    """A digest of every row the business relies on (the audit trail is allowed to grow)."""
    tables = ("accounts", "reps", "opportunities", "bookings", "quotas", "targets", "headcount_plan", "users")
    with Warehouse(path).reader() as cur:
        rows = [cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _init_runs(path: Path) -> list[str]:
    with Warehouse(path).reader() as cur:
        return [r[0] for r in cur.execute("SELECT status FROM audit_runs WHERE question LIKE '%init%'").fetchall()]


@pytest.mark.parametrize(
    ("library_says", "we_say"),
    [
        ("No space left on device", "No space left on the disk holding"),
        ("Permission denied", "Permission denied on"),
        ("Read-only file system", "is on a read-only file system"),
    ],
)
def test_a_refused_write_during_init_is_a_clear_error_and_leaves_the_old_file(
    warehouse_file: Path, monkeypatch: pytest.MonkeyPatch, library_says: str, we_say: str
) -> None:
    """The disk refuses DuckDB midway through `spm data init --force`: the old warehouse stays."""
    import warehouse.create as create

    real_migrate = create.migrate

    def migrate_then_fail(connection: duckdb.DuckDBPyConnection) -> None:
        real_migrate(connection)  # the new file has content when the disk gives out
        file = connection.execute("SELECT file FROM pragma_database_list WHERE name = current_database()").fetchone()
        raise duckdb.IOException(f'IO Error: Could not write file "{file[0]}.wal": {library_says}')

    monkeypatch.setattr(create, "migrate", migrate_then_fail)
    monkeypatch.setenv("SPM_WAREHOUSE", str(warehouse_file))
    before, runs_before = _business_rows(warehouse_file), _init_runs(warehouse_file)
    result = spm("data", "init", "--force", "--yes")
    assert result.exit_code == EXIT_CODES["storage"], result.output
    assert we_say in result.stderr and str(warehouse_file) in result.stderr and "SPM_WAREHOUSE" in result.stderr
    assert "internal error" not in result.stderr and "report it" not in result.stderr
    assert sorted(p.name for p in warehouse_file.parent.iterdir() if "duckdb" in p.name) == [warehouse_file.name]
    assert _business_rows(warehouse_file) == before
    assert len(_init_runs(warehouse_file)) == len(runs_before) + 1  # the failed attempt is on record


def test_a_full_disk_under_the_threads_file_names_it_and_its_setting(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite3, "connect", full)
    result = spm("-w", str(warehouse_file), "ask", "Forecast next quarter by region")
    assert result.exit_code == EXIT_CODES["storage"], result.output
    assert f"No space left on the disk holding {tmp_path / 'threads.sqlite'}" in result.stderr
    assert "SPM_THREADS_DB" in result.stderr and "report it" not in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_while_writing_rejects_says_the_import_itself_is_done(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rejects file is written whole or not at all; the warning says what did happen, and
    the command keeps the import's own exit code (the rows are in: reporting failure would lie)."""
    data = tmp_path / "in"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,name,arr\nA-NEW1,Acme,10\nA-NEW2,Bad,x\n")
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()  # --rejects must name a file in a folder that exists
    real_mkstemp = tempfile.mkstemp

    def on_a_full_disk(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        os.dup2(os.open("/dev/full", os.O_WRONLY), fd)  # every write to it fails with ENOSPC
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", on_a_full_disk)
    result = spm("-w", str(warehouse_file), "data", "import", str(data), "--rejects", str(rejects))
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert f"No space left on the disk holding {rejects}" in result.stderr and "warning:" in result.stderr
    assert "The import is committed: read 2 = loaded 1 + rejected 1." in result.stderr
    assert "report it" not in result.stderr
    assert not rejects.exists() and list(rejects.parent.iterdir()) == []  # no half file, no temporary


def _permissions_apply() -> bool:
    """False when this process ignores file modes: root (os.geteuid() == 0) with CAP_DAC_OVERRIDE,
    as in most containers; root without it (`setpriv --bounding-set=-dac_override`) runs the test."""
    with tempfile.TemporaryDirectory() as folder:
        locked = Path(folder) / "locked"
        locked.mkdir(mode=0o500)
        try:
            (locked / "probe").touch()
        except PermissionError:
            return True
        finally:
            locked.chmod(0o700)
        return False


@pytest.mark.skipif(not _permissions_apply(), reason="this process ignores file permissions (root)")
def test_folders_spm_may_not_write_give_a_clear_error(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        cases = [
            ("SPM_WAREHOUSE", locked / "new.duckdb", ["data", "init"]),
            ("SPM_THREADS_DB", locked / "threads.sqlite", ["-w", str(warehouse_file), "ask", "Forecast next quarter"]),
            ("SPM_MEMORY_DIR", locked / "memory", ["-w", str(warehouse_file), "memory", "add", "Never move Acme"]),
        ]
        for setting, path, args in cases:
            with monkeypatch.context() as env:
                env.setenv(setting, str(path))
                result = spm(*args)
            assert result.exit_code == EXIT_CODES["storage"], (setting, result.output)
            assert "Permission denied" in result.stderr and str(path) in result.stderr, (setting, result.stderr)
            assert setting in result.stderr and "report it" not in result.stderr
            assert list(locked.iterdir()) == []
        warehouse_file.chmod(0o400)  # a warehouse that may be read but not written
        write = spm("-w", str(warehouse_file), "quota", "simulate", "--trials", "200", "--save-scenario", "fy28")
        assert write.exit_code == EXIT_CODES["storage"], write.output
        assert "Permission denied" in write.stderr and str(warehouse_file) in write.stderr
    finally:
        locked.chmod(0o700)
        warehouse_file.chmod(0o600)


# --- private files --------------------------------------------------------------------------


def test_what_spm_creates_is_private(
    warehouse_file: Path, tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.planner import intents
    from interfaces.settings import get_settings

    monkeypatch.setenv("SPM_CACHE_DIR", str(tmp_path / "cache"))  # this test's own, not the run's shared one
    get_settings.cache_clear()

    fresh = tmp_path / "fresh" / "warehouse.duckdb"
    created = spm("-w", str(fresh), "data", "init")
    assert created.exit_code == 0, created.output
    assert _mode(fresh) == 0o600 and _mode(fresh.parent) == 0o700

    warehouse_file.chmod(0o644)  # the user's own file, shared on purpose
    intents.reset()  # train and cache the planner in this test's cache folder
    asked = spm("-w", str(warehouse_file), "ask", "Forecast next quarter by region")
    assert asked.exit_code == 0, asked.output
    assert _mode(tmp_path / "threads.sqlite") == 0o600
    assert _mode(tmp_path / "memory") == 0o700
    assert _mode(tmp_path / "cache") == 0o700
    assert _mode(warehouse_file) == 0o644  # keeps the mode its owner gave it

    wh = Warehouse(warehouse_file, writable=True)
    with wh.held():  # the write-ahead log lives until the file is closed (checkpointed)
        with wh.writer() as cur:
            cur.execute("INSERT INTO meta VALUES ('trust-test', '1')")
        wal = warehouse_file.with_name(warehouse_file.name + ".wal")
        assert wal.exists() and _mode(wal) == 0o600

    data = tmp_path / "in"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,name,arr\nA-NEW1,Acme,10\nA-NEW2,Bad,x\n")
    rejects = tmp_path / "rejects.csv"
    imported = spm("-w", str(warehouse_file), "data", "import", str(data), "--rejects", str(rejects))
    assert imported.exit_code == EXIT_PARTIAL, imported.output
    assert _mode(rejects) == 0o600 and "is not a number" in rejects.read_text()
    rejects.chmod(0o640)  # a file that exists is the user's: rewriting it keeps its mode
    again = spm("-w", str(warehouse_file), "data", "import", str(data), "--rejects", str(rejects), "--force")
    assert again.exit_code == EXIT_PARTIAL and _mode(rejects) == 0o640, again.output


# --- the Slack bot's address ----------------------------------------------------------------


def test_the_slack_bot_listens_on_this_machine_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from interfaces.slack_app import SlackBot, build_app, serve_http
    from interfaces.slack_cli import listen_address

    helped = spm("slack", "--help")
    assert "127.0.0.1" in helped.stdout and "SPM_SLACK_HOST" in helped.stdout
    assert "[default: 0.0.0.0]" not in helped.stdout

    default = listen_address(Settings())
    assert (default.host, default.port) == ("127.0.0.1", 3000)
    assert "this machine only" in default.describe()
    monkeypatch.setenv("SPM_SLACK_HOST", "0.0.0.0")
    monkeypatch.setenv("SPM_SLACK_PORT", "8080")
    chosen = listen_address(Settings())
    assert (chosen.host, chosen.port) == ("0.0.0.0", 8080) and "every network interface" in chosen.describe()
    assert listen_address(Settings(), "127.0.0.2", 9000).host == "127.0.0.2"  # the options win

    bot = SlackBot(agent=None, identify=lambda user: None)
    app_ = build_app(bot, bot_token="xoxb-test", signing_secret="s", verify_token=False)
    server = serve_http(app_, default.host, 0)  # port 0: any free port, on the loopback interface
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_storage_error_kinds_have_their_own_exit_code() -> None:
    from interfaces.errors import user_facing

    assert EXIT_CODES["storage"] not in {code for kind, code in EXIT_CODES.items() if kind != "storage"}
    for code, words in (
        (errno.ENOSPC, "No space left"),
        (errno.EACCES, "Permission denied"),
        (errno.EROFS, "read-only"),
    ):
        problem = user_facing(OSError(code, os.strerror(code), "/srv/spm/data/warehouse.duckdb"))
        assert getattr(problem, "kind", None) == "storage" and words in str(problem)
        assert "/srv/spm/data/warehouse.duckdb" in str(problem)
    assert user_facing(FileNotFoundError(errno.ENOENT, "gone", "/x")).__class__ is FileNotFoundError


# --- data text on screens ---------------------------------------------------------------------

CONTROL_NAME = "Acme \x1b[2J\x1b[31mRED\x1b[0m \u202etnuocca\u202c"  # clear screen, colour, right-to-left override


def test_control_sequences_in_data_print_as_visible_escapes(warehouse_file: Path) -> None:
    from interfaces.output import terminal_safe

    with Warehouse(warehouse_file, writable=True).writer() as cur:
        cur.execute("UPDATE reps SET name = ? || ' ' || rep_id WHERE region = 'NA'", [CONTROL_NAME])
    shown = spm("-w", str(warehouse_file), "territory", "rebalance", "--filter", "region=NA", "--time-limit", "5")
    assert shown.exit_code == 0, shown.output
    assert "Acme" in shown.stdout  # the names are shown...
    assert not any(c in shown.stdout for c in "\x1b\u202e\u202c")  # ...without a character that controls the terminal
    assert "\\x1b[2J" in shown.stdout and "\\u202e" in shown.stdout  # written so a reader sees what is there
    assert terminal_safe("tab\tand\nnewline, é, 漢字, $1.2M") == "tab\tand\nnewline, é, 漢字, $1.2M"  # text stays text


def test_slack_text_escapes_what_slack_would_read_as_mentions_or_links() -> None:
    from agent.result import AgentResult
    from interfaces.slack_blocks import result_blocks

    name = "<!channel> see <https://evil.example|the plan> & more"
    result = AgentResult(
        run_id="run-1",
        thread_id="t",
        status="ok",
        answer=f"The biggest move is **{name}**.",
        model="offline",
        recommendations=[{"action": f"Move {name} to R-00003", "confidence": 0.8, "impact": {}}],
    )
    blocks, fallback = result_blocks(result, "Rebalance NA")
    text = json.dumps(blocks) + fallback
    assert "<!channel>" not in text and "<https://" not in text
    assert "&lt;!channel&gt; see &lt;https://evil.example|the plan&gt; &amp; more" in text
    assert "*&lt;!channel&gt;" in text  # the answer's bold still converts to Slack's *bold*
