"""Running an import: files to tables, one transaction, a reconciled report.

Every file is read, validated and upserted inside a single write transaction: if anything
fails (or `strict` and any row was rejected) the transaction rolls back and the warehouse is
exactly as it was. The report reconciles `read = loaded + rejected` per file.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError
from warehouse.importers import salesforce
from warehouse.importers.loader import DIMENSION_TABLES, FileReport, TableLoader
from warehouse.importers.reading import read_file
from warehouse.importers.specs import LOAD_ORDER, SPECS
from warehouse.importers.validate import REJECTION_COLUMNS, Coercer, Members

ImportFormat = Literal["native", "salesforce"]
_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv")
_SALESFORCE_ORDER = {"users": 0, "accounts": 1, "opportunities": 2}


@dataclass
class ImportReport:
    import_id: str
    format: str
    strict: bool
    committed: bool
    files: list[FileReport]
    rejections: pd.DataFrame
    created_members: dict[str, list[str]] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files) if self.committed else 0

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def to_dict(self, max_rejections: int = 10_000) -> dict[str, Any]:
        rejections = self.rejections.sort_values(["file", "row"], kind="stable")
        shown = rejections.head(max_rejections).astype(object).where(rejections.head(max_rejections).notna(), None)
        return {
            "import_id": self.import_id,
            "format": self.format,
            "strict": self.strict,
            "committed": self.committed,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "files": [{**asdict(f), "loaded": f.loaded if self.committed else 0} for f in self.files],
            "created_members": self.created_members,
            "rejections": shown.to_dict("records"),
            "rejections_truncated": len(rejections) > max_rejections,
        }


class _StrictRollback(Exception):
    """Raised inside the transaction to undo a strict import that rejected rows."""


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES and not p.name.startswith("."))
            if not found:
                raise InputError(f"The folder {path} holds no .csv or .parquet files.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise NotFoundError(f"No such file or folder: {path}.")
    if not files:
        raise InputError("No files to import.", "Give one or more files or folders.")
    return files


def table_for(path: Path) -> str:
    stem = path.stem.lower()
    for table in sorted(SPECS, key=len, reverse=True):
        if stem == table or (stem.startswith(table) and stem[len(table)] in "_.-"):
            return table
    raise InputError(
        f"{path.name}: cannot tell which table it fills from its name.",
        f"Name native files after a table: {', '.join(SPECS)} (e.g. accounts.csv, bookings_2025.csv).",
    )


def import_files(
    warehouse: Warehouse,
    paths: Sequence[str | Path],
    *,
    format: ImportFormat = "native",
    strict: bool = False,
    today: date | None = None,
    imported_by: str | None = None,
) -> ImportReport:
    """Import files into the warehouse in one transaction; see the module docstring.
    `imported_by` is the acting user's id, recorded with the import."""
    files = _expand(paths)
    if format == "native":
        plan = sorted(((table_for(f), f) for f in files), key=lambda tf: (LOAD_ORDER.index(tf[0]), str(tf[1])))
    elif format == "salesforce":
        plan = []
        for f in files:
            raw = read_file(f, normalize=False)
            kind = salesforce.detect_kind(raw.columns)
            if kind is None:
                raise InputError(
                    f"{f.name} is not a Salesforce Accounts, Opportunities or Users export.",
                    "Export the standard report with its default column headers.",
                )
            plan.append((kind, f))
        plan.sort(key=lambda kf: (_SALESFORCE_ORDER[kf[0]], str(kf[1])))
    else:
        raise InputError(f"Unknown import format {format!r}.", "Use native or salesforce.")

    import_id = uuid.uuid4().hex[:12]
    reports: list[FileReport] = []
    rejections: list[pd.DataFrame] = []
    created: dict[str, list[str]] = {}
    committed = False
    try:
        with warehouse.writer() as cur:
            meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
            calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
            existing = {
                table: {name.lower(): name for (name,) in cur.execute(f"SELECT name FROM {table}").fetchall()}
                for table in DIMENSION_TABLES
            }
            coercer = Coercer(
                calendar=calendar,
                members=Members(existing),
                date_formats=("%Y-%m-%d",) if format == "native" else salesforce.SALESFORCE_DATE_FORMATS,
                money_style="plain" if format == "native" else "report",
            )
            loader = TableLoader(cur, coercer)
            for table_or_kind, path in plan:
                if format == "native":
                    raw = read_file(path)
                    report, rejected = loader.load(SPECS[table_or_kind], raw.columns, raw.chunks, path.name)
                    reports.append(report)
                    rejections.append(rejected)
                    continue
                raw = read_file(path, normalize=False)
                mapped = salesforce.map_file(raw, table_or_kind, cur, (today or date.today()).isoformat())
                for table, columns, chunks in mapped.tables:
                    label = path.name if table != "stages" else f"{path.name} (stages)"
                    report, rejected = loader.load(SPECS[table], columns, chunks, label)
                    if table != "stages":
                        report.notes.extend(mapped.notes)
                    reports.append(report)
                    rejections.append(rejected)
            created = loader.created
            total_rejected = sum(r.rejected for r in reports)
            if strict and total_rejected:
                raise _StrictRollback
            cur.execute(
                "INSERT INTO imports (import_id, imported_at, format, files, rows_read, rows_loaded, rows_rejected, "
                "created_members, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    import_id,
                    datetime.now(),
                    format,
                    ", ".join(str(p) for _, p in plan),
                    sum(r.read for r in reports),
                    sum(r.loaded for r in reports),
                    total_rejected,
                    ", ".join(f"{t}: {', '.join(n)}" for t, n in created.items()) or None,
                    imported_by,
                ],
            )
            committed = True
    except _StrictRollback:
        committed = False
    frames = [r for r in rejections if not r.empty]
    all_rejections = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECTION_COLUMNS)
    return ImportReport(
        import_id=import_id,
        format=format,
        strict=strict,
        committed=committed,
        files=reports,
        rejections=all_rejections,
        created_members=created if committed else {},
    )
