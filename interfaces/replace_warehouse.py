"""Creating or replacing a warehouse file (`spm data init`, `spm demo`) through the write gate.

Replacing a warehouse that holds data (or a file that does not open, whose content is unknown)
destroys its data and its audit trail, so it needs a role that may `destroy_warehouse`, an
explicit `--yes`, and it keeps the previous file next to the new one
(`warehouse.duckdb.bak-YYYYmmdd-HHMMSS`, a hard link made before the new file moves in). A
refusal is an audit run in the old file; the replacement is an audit run in the new one that
names the backup and the old file's fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interfaces.recorded_write import RecordedWrite
    from warehouse.connection import Warehouse
    from warehouse.identity import User

# Rows in any of these mean the file holds something a replacement would lose.
HOLDS_DATA = (
    "accounts",
    "reps",
    "opportunities",
    "bookings",
    "quotas",
    "targets",
    "headcount_plan",
    "scenarios",
    "users",
    "imports",
    "audit_runs",
)


@dataclass(frozen=True)
class Replaced:
    warehouse: Warehouse
    replaced: bool  # an existing file was replaced (else created)
    backup: Path | None  # where the replaced file is kept, when it held data


def backup_path(path: Path, now: datetime | None = None) -> Path:
    """`path.bak-YYYYmmdd-HHMMSS` next to `path` (a suffix when two land in the same second)."""
    stamp = f"{path.name}.bak-{(now or datetime.now()):%Y%m%d-%H%M%S}"
    candidate, n = path.with_name(stamp), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{stamp}-{n}")
    return candidate


def _contents(wh: Warehouse) -> dict[str, int]:
    with wh.reader() as cur:
        counts = {t: int(cur.scalar(f"SELECT count(*) FROM {t}")) for t in HOLDS_DATA}
    return {t: n for t, n in counts.items() if n}


def _opens(wh: Warehouse) -> bool:
    from warehouse.errors import InputError, SchemaError

    try:
        with wh.reader():
            return True
    except (InputError, SchemaError):  # not a warehouse, another key, a newer schema
        return False


def create_or_replace(
    path: Path,
    *,
    question: str,
    yes: bool,
    force: bool,
    build: Callable[[Path | None], Warehouse],
    what: str,
    only_demo: bool = False,
) -> Replaced:
    """Gate and record `build(backup)`, which creates the warehouse at `path` (replacing the file
    there when `force`), keeping the old file at `backup` when it is not None."""
    from interfaces.common import settings, warehouse_key
    from interfaces.identity import acting_user, os_account, owns_file
    from interfaces.recorded_write import DATA_TABLES, RecordedWrite
    from interfaces.settings import audit_key
    from warehouse import audit_journal
    from warehouse.connection import Warehouse
    from warehouse.errors import ConflictError, InputError, PermissionDeniedError
    from warehouse.identity import LOCAL_USER

    user: User | None = None
    gate: RecordedWrite | None = None  # the old file's record of the attempt, when it opens
    backup: Path | None = None
    before: str | None = None
    held: dict[str, Any] = {}
    replacing = path.is_file() and force
    if replacing:
        old = Warehouse(path, writable=True, lock_timeout=settings().lock_timeout, key=warehouse_key())
        if _opens(old):
            # Runs still journaled beside the old file belong to its trail (and its backup), not the new one's.
            audit_journal.drain(old, audit_key(settings()))
            with old.held():
                user = acting_user(old)
                held = _contents(old)
                is_demo = "demo_size" in old.meta()
                # `spm demo` rebuilds its own demo company (daily, by design): no --yes, no backup.
                destroys = bool(held) and not (only_demo and is_demo)
                gate = RecordedWrite(
                    old,
                    user,
                    "destroy_warehouse" if destroys else "init_warehouse",
                    "replace_warehouse",
                    question,
                    tables=DATA_TABLES,
                    doing="replace a warehouse that holds data" if destroys else "replace a warehouse",
                )
                gate.require()
                if only_demo and not is_demo:
                    gate.refuse(
                        ConflictError(
                            f"{path} is not a demo company; `spm demo` rebuilds only its own demo file.",
                            "Point SPM_DEMO_WAREHOUSE at another file, or replace this one on purpose: "
                            f"spm -w {path} data init --demo --force --yes.",
                        )
                    )
                if destroys and not yes:
                    shown = ", ".join(f"{n:,} {t}" for t, n in held.items())
                    gate.refuse(
                        InputError(
                            f"{path} holds data ({shown}); replacing it destroys that data and its audit trail.",
                            "Add --yes to replace it (the current file is kept next to it as a backup), "
                            "or choose another file with -w.",
                        )
                    )
                before = gate.fingerprint()
                backup = backup_path(path) if destroys else None
        else:
            # Its content (and its users) cannot be read: only the file's owner may replace it,
            # and only on purpose; the backup keeps whatever it was.
            if only_demo:
                raise ConflictError(
                    f"{path} does not open as a demo company; `spm demo` rebuilds only its own demo file.",
                    "Point SPM_DEMO_WAREHOUSE at another file, or replace this one on purpose: "
                    f"spm -w {path} data init --demo --force --yes.",
                )
            account = os_account()
            if not owns_file(account, old):
                raise PermissionDeniedError(
                    f"{path} does not open as a warehouse, and the OS login {account.login!r} does not own it.",
                    "Ask its owner to replace it, or choose another file with -w.",
                )
            if not yes:
                raise InputError(
                    f"{path} does not open as a warehouse with this key; replacing it destroys whatever it holds.",
                    "Add --yes to replace it (the current file is kept next to it as a backup), "
                    "or choose another file with -w.",
                )
            user, backup, held = LOCAL_USER, backup_path(path), {"unreadable file": 1}
    try:
        wh = build(backup)
    except BaseException as exc:  # the old file is untouched (create_warehouse is atomic): say so in its trail
        if gate is not None:
            gate.failed(exc)
        raise
    new = wh.with_writes()
    with new.held():
        record = RecordedWrite(
            new,
            user or acting_user(new),  # a new file: its creator owns it (or it has no users yet)
            "destroy_warehouse" if backup else "init_warehouse",
            "replace_warehouse" if replacing else "create_warehouse",
            question,
            tables=DATA_TABLES,
        )
        kept = f" The previous warehouse is kept at {backup}." if backup else ""
        message = f"{'Replaced the warehouse with' if replacing else 'Created'} {what} at {path}.{kept}"
        record.args = {"warehouse": str(path), "backup": str(backup) if backup else None, "replaced": held}
        record.answer = message
        record.done(before)
    return Replaced(wh, replacing, backup)
