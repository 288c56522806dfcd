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
from warehouse.importers import crm, salesforce
from warehouse.importers.loader import DIMENSION_TABLES, FileReport, TableLoader
from warehouse.importers.mapping import ColumnMapping, suggest_columns
from warehouse.importers.reading import normalize_header
from warehouse.importers.specs import LOAD_ORDER, SPECS
from warehouse.importers.staging import Staged, stage_chunks, stage_file, workspace
from warehouse.importers.validate import REJECTION_COLUMNS, Coercer, Members
from warehouse.importers.values import Decimal

ImportFormat = Literal["native", "salesforce", "hubspot"]
_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv", ".xlsx")


@dataclass
class ImportReport:
    import_id: str
    format: str
    strict: bool
    committed: bool
    files: list[FileReport]
    rejections: pd.DataFrame
    created_members: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False  # validated in full, then rolled back: nothing was written

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
            "dry_run": self.dry_run,
            "committed": self.committed,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "files": [{**asdict(f), "loaded": f.loaded if self.committed else 0} for f in self.files],
            "created_members": self.created_members,
            "rejections": shown.to_dict("records"),
            "rejections_truncated": len(rejections) > max_rejections,
        }


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run, or a strict import that rejected rows."""


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
    dry_run: bool = False,
    decimal: Decimal = ".",
    mapping: ColumnMapping | None = None,
) -> ImportReport:
    """Import files into the warehouse in one transaction; see the module docstring.
    `imported_by` is the acting user's id, recorded with the import. `dry_run` validates
    everything exactly as an import would and then rolls back; `decimal` is the files' decimal
    mark; `mapping` renames a CRM's headers to native columns before validation."""
    mapping = mapping or ColumnMapping()
    files = _expand(paths)
    if format == "native":
        plan = sorted(((table_for(f), f) for f in files), key=lambda tf: (LOAD_ORDER.index(tf[0]), str(tf[1])))
    elif format in crm.FORMATS:
        plan = crm.plan(files, format)
    else:
        raise InputError(f"Unknown import format {format!r}.", "Use native, salesforce or hubspot.")

    import_id = uuid.uuid4().hex[:12]
    reports: list[FileReport] = []
    rejections: list[pd.DataFrame] = []
    created: dict[str, list[str]] = {}
    committed = False
    work = workspace()
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
                decimal=decimal,
                currency=meta.get("currency", "USD"),
            )
            loader = TableLoader(cur, work, coercer)

            def load(table: str, staged: Staged, label: str) -> FileReport:
                staged, applied = _mapped(staged, mapping.for_table(table))
                report, rejected = loader.load(SPECS[table], staged, label)
                report.mapped = applied
                lacking = [c.name for c in SPECS[table].columns if c.name not in staged.columns]
                report.suggestions = suggest_columns(report.ignored_columns, lacking)
                reports.append(report)
                rejections.append(rejected)
                return report

            for table_or_kind, path in plan:
                if format == "native":
                    load(table_or_kind, stage_file(work, path), path.name)
                    continue
                today_iso = (today or date.today()).isoformat()
                mapped = crm.map_path(path, format, table_or_kind, cur, today_iso, mapping.for_table(table_or_kind))
                for table, columns, chunks in mapped.tables:
                    label = path.name if table != "stages" else f"{path.name} (stages)"
                    report = load(table, stage_chunks(work, columns, chunks), label)
                    if table != "stages":
                        report.notes.extend(mapped.notes)
            created = loader.created
            total_rejected = sum(r.rejected for r in reports)
            if dry_run or (strict and total_rejected):
                raise _Rollback
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
    except _Rollback:
        committed = False
    finally:
        work.close()
    frames = [r for r in rejections if not r.empty]
    all_rejections = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECTION_COLUMNS)
    return ImportReport(
        import_id=import_id,
        format=format,
        strict=strict,
        committed=committed,
        files=reports,
        rejections=all_rejections,
        created_members=created if committed or dry_run else {},
        dry_run=dry_run,
    )


def _mapped(staged: Staged, renames: dict[str, str]) -> tuple[Staged, dict[str, str]]:
    """The staged file with a mapping file's renames applied to its header names, and the
    renames that applied (header as written -> column)."""
    applied = {name: renames[normalize_header(name)] for name in staged.columns if normalize_header(name) in renames}
    if not applied:
        return staged, {}
    columns = {applied.get(name, name): column for name, column in staged.columns.items()}
    return Staged(staged.source, columns, staged.read, staged.ragged, staged.tables), applied
