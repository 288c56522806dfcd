"""Loading a staged file into one table: typing, references, keys, dimension members, upsert.

A `TableLoader` works inside the import's single transaction, in SQL over the file's typed
rows (`validate.type_rows`): it rejects rows that refer to what does not exist and rows
repeating a key within the file, creates the dimension members used by loaded rows, and
upserts on the table's key (so a re-import updates, never duplicates). Columns a file does
not have are derived where the schema says how (an opportunity's closed/won flags from its
stage, a booking's id from its content) and otherwise keep their stored values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from warehouse.importers.specs import TableSpec
from warehouse.importers.staging import Staged
from warehouse.importers.validate import REJECTION_COLUMNS, Coercer, Typed, mark_rejected, reject, temp_name, type_rows

DIMENSION_TABLES = ("regions", "segments", "products")
# Rows per Arrow batch when rows cross between the workspace and the warehouse: DuckDB scans one
# batch per thread, so one 1M-row batch (the default) would make the warehouse insert
# single-threaded (measured: 1M opportunities 2.5 s in one batch, 1.2 s in batches of 122,880).
ARROW_BATCH_ROWS = 122_880


@dataclass
class FileReport:
    file: str
    table: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # unknown header -> the schema column it probably means (shown by --dry-run and on import)
    suggestions: dict[str, str] = field(default_factory=dict)
    mapped: dict[str, str] = field(default_factory=dict)  # header -> column, renamed by the mapping file


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class TableLoader:
    def __init__(self, cur: duckdb.DuckDBPyConnection, work: duckdb.DuckDBPyConnection, coercer: Coercer) -> None:
        self.cur = cur  # the warehouse, inside the import's transaction
        self.work = work  # the import's workspace: staged and typed files
        self.coercer = coercer
        self.created: dict[str, list[str]] = {}

    def _scalar(self, sql: str, params: list[Any] | None = None, *, work: bool = False) -> Any:
        row = (self.work if work else self.cur).execute(sql, params or []).fetchone()
        assert row is not None  # an aggregate always returns a row
        return row[0]

    # --- loading ------------------------------------------------------------------------

    def load(self, spec: TableSpec, staged: Staged, file: str) -> tuple[FileReport, pd.DataFrame]:
        report = FileReport(file=file, table=spec.name, read=staged.read)
        known = {c.name for c in spec.columns}
        report.ignored_columns = [c for c in staged.columns if c not in known]
        source = staged.source
        typed: Typed | None = None
        try:
            missing_required = [c for c in spec.required if c not in staged.columns]
            if missing_required:
                reason = f"the file has no {', '.join(missing_required)} column (required)"
                rows = self.work.execute(f"SELECT _row FROM {source}").fetchall()
                rejected = pd.DataFrame(
                    {
                        "file": file,
                        "row": [r for (r,) in rows],
                        "column": missing_required[0],
                        "reason": reason,
                        "value": None,
                    }
                )
            else:
                typed = type_rows(self.work, spec, source, staged.columns, self.coercer, file)
                report.notes.extend(dict.fromkeys(typed.notes))
                self._table_rules(spec, typed, file)
                self._dedupe_keys(spec, typed, file)
                if self._scalar(f"SELECT count(*) FROM {typed.table} WHERE _ok", work=True):
                    report.notes.extend(self._default_notes(spec, typed))
                    self._create_members(spec, typed)
                    report.inserted, report.updated = self._upsert(spec, typed)
                    report.loaded = report.inserted + report.updated
                rejected = self.work.execute(f'SELECT file, row, "column", reason, value FROM {typed.rejections}').df()
        finally:
            for table in staged.tables:
                self.work.execute(f"DROP TABLE IF EXISTS {table}")
            if typed is not None:
                self.work.execute(f"DROP TABLE IF EXISTS {typed.table}")
                self.work.execute(f"DROP TABLE IF EXISTS {typed.rejections}")
        if staged.ragged:
            ragged = pd.DataFrame(
                {
                    "file": file,
                    "row": [row for row, _ in staged.ragged],
                    "column": None,
                    "reason": [reason for _, reason in staged.ragged],
                    "value": None,
                }
            )
            rejected = pd.concat([ragged, rejected], ignore_index=True) if not rejected.empty else ragged
        if rejected.empty:
            rejected = pd.DataFrame(columns=REJECTION_COLUMNS)
        rejected["row"] = rejected["row"].astype("int64")
        rejected = rejected.astype({"column": object, "value": object}).where(rejected.notna(), None)
        report.rejected = int(rejected["row"].nunique())
        return report, rejected

    def _copy(self, table: str, columns: str) -> None:
        """The warehouse's `table` (as this transaction sees it) into the workspace, for checks."""
        rows = self.cur.execute(f"SELECT {columns} FROM {table}").to_arrow_table(ARROW_BATCH_ROWS)
        self.work.register("_warehouse_rows", rows)
        try:
            self.work.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _warehouse_rows")
        finally:
            self.work.unregister("_warehouse_rows")

    def _table_rules(self, spec: TableSpec, typed: Typed, file: str) -> None:
        t = typed.table
        if spec.name in ("opportunities", "opportunity_history"):
            self._copy("stages", "name, sort_order, is_closed, is_won")
            names = ", ".join(n for (n,) in self.work.execute("SELECT name FROM stages ORDER BY sort_order").fetchall())
            reject(
                self.work,
                typed,
                file,
                "stage",
                _text(f"is not a known stage (known: {names or 'none yet'}); add it to stages.csv"),
                "NOT EXISTS (SELECT 1 FROM stages st WHERE lower(st.name) = lower(t.stage))",
            )
            self.work.execute(f"UPDATE {t} SET stage = st.name FROM stages st WHERE lower(st.name) = lower({t}.stage)")
        if spec.name == "opportunities":
            for column in ("is_closed", "is_won"):
                derived = f"(SELECT st.{column} FROM stages st WHERE st.name = t.stage)"
                if column in typed.columns:
                    reject(
                        self.work,
                        typed,
                        file,
                        column,
                        f"'is ' || CASE WHEN t.{column} THEN 'True' ELSE 'False' END || ' but stage ''' || t.stage "
                        f"|| ''' has {column} = ' || CASE WHEN {derived} THEN 'True' ELSE 'False' END",
                        f"t.{column} IS NOT NULL AND t.{column} <> {derived}",
                    )
                else:
                    self.work.execute(f"ALTER TABLE {t} ADD COLUMN {column} BOOLEAN")
                    typed.columns.append(column)
                self.work.execute(
                    f"UPDATE {t} SET {column} = st.{column} FROM stages st "
                    f"WHERE st.name = {t}.stage AND {t}.{column} IS NULL"
                )
            self._copy("accounts", "account_id")
            reject(
                self.work,
                typed,
                file,
                "account_id",
                "'does not exist; import accounts.csv first or in the same command'",
                "t.account_id NOT IN (SELECT account_id FROM accounts)",
            )
        if spec.name == "opportunity_history":
            self._copy("opportunities", "opp_id")
            reject(
                self.work,
                typed,
                file,
                "opp_id",
                "'does not exist; import opportunities first or in the same command'",
                "t.opp_id NOT IN (SELECT opp_id FROM opportunities)",
            )
        if spec.name == "bookings":
            self._derive_booking_ids(typed)
        if spec.name == "stages":
            reject(self.work, typed, file, "is_won", "'is true but is_closed is false'", "t.is_won AND NOT t.is_closed")

    def _derive_booking_ids(self, typed: Typed) -> None:
        """Stable ids from the row content; identical rows in one file are told apart by order."""
        t = typed.table
        if "booking_id" not in typed.columns:
            self.work.execute(f"ALTER TABLE {t} ADD COLUMN booking_id VARCHAR")
            typed.columns.append("booking_id")
        parts = [
            c
            for c in ("date", "amount", "region", "segment", "product", "rep_id", "account_id", "opp_id")
            if c in typed.columns
        ]
        rows = self.work.execute(
            f"SELECT _row, {', '.join(parts)} FROM {t} WHERE _ok AND booking_id IS NULL ORDER BY _row"
        ).fetchall()
        if not rows:
            return
        texts = ["|".join(_as_text(v) for v in row[1:]) for row in rows]
        seen: dict[str, int] = {}
        ids = []
        for text in texts:
            n = seen.get(text, 0)
            seen[text] = n + 1
            ids.append("B-" + hashlib.sha1(f"{text}#{n}".encode()).hexdigest()[:16])
        frame = pd.DataFrame({"_row": [r[0] for r in rows], "booking_id": ids})
        name = temp_name("ids")
        self.work.register(name, frame)
        try:
            self.work.execute(f"UPDATE {t} SET booking_id = i.booking_id FROM {name} i WHERE i._row = {t}._row")
        finally:
            self.work.unregister(name)

    def _dedupe_keys(self, spec: TableSpec, typed: Typed, file: str) -> None:
        key = ", ".join(spec.key)
        shown = " || '/' || ".join(f"coalesce(CAST({k} AS VARCHAR), 'None')" for k in spec.key)
        self.work.execute(
            f"""INSERT INTO {typed.rejections}
                SELECT ?, _row, ?, 'repeats the key of row ' || first_row, shown
                FROM (SELECT _row, {shown} AS shown,
                             first_value(_row) OVER (PARTITION BY {key} ORDER BY _row) AS first_row
                      FROM {typed.table} WHERE _ok)
                WHERE _row <> first_row""",
            [file, spec.key[0]],
        )
        mark_rejected(self.work, typed)

    def _create_members(self, spec: TableSpec, typed: Typed) -> None:
        for col in spec.columns:
            if col.type != "dimension" or col.name not in typed.columns or not col.dimension:
                continue
            names = [
                n
                for (n,) in self.work.execute(
                    f"SELECT {col.name} FROM {typed.table} WHERE _ok AND {col.name} IS NOT NULL "
                    f"GROUP BY 1 ORDER BY min(_row)"
                ).fetchall()
                if n != "All" or not col.allow_all
            ]
            missing = self.coercer.members.missing(col.dimension, names)
            if missing:
                start = self._scalar(f"SELECT coalesce(max(sort_order), -1) + 1 FROM {col.dimension}")
                self.cur.executemany(
                    f"INSERT INTO {col.dimension} (name, sort_order) VALUES (?, ?)",
                    [(name, start + i) for i, name in enumerate(missing)],
                )
                self.coercer.members.add(col.dimension, missing)
                self.created.setdefault(col.dimension, []).extend(missing)
        if spec.name in DIMENSION_TABLES:
            names = [n for (n,) in self.work.execute(f"SELECT name FROM {typed.table} WHERE _ok").fetchall()]
            self.coercer.members.add(spec.name, names)

    def _upsert(self, spec: TableSpec, typed: Typed) -> tuple[int, int]:
        columns = [c.name for c in spec.columns if c.name in typed.columns]
        cols = ", ".join(columns)
        rows = self.work.execute(f"SELECT {cols} FROM {typed.table} WHERE _ok").to_arrow_table(ARROW_BATCH_ROWS)
        source = temp_name("loadable")
        self.cur.register(source, rows)
        try:
            return self._insert(spec, source, columns, rows.num_rows)
        finally:
            self.cur.unregister(source)

    def _default_notes(self, spec: TableSpec, typed: Typed) -> list[str]:
        """What the spec's defaults will fill in, said once per column."""
        notes = []
        for col in spec.columns:
            if col.default is None:
                continue
            where = f"{col.name} IS NULL AND " if col.name in typed.columns else ""
            n = int(self._scalar(f"SELECT count(*) FROM {typed.table} WHERE {where}_ok", work=True))
            if n:
                notes.append(
                    f"{n:,} rows have no {col.name}: new ones are loaded as {col.default} "
                    f"(existing ones keep theirs); add a {col.name} column to set it."
                )
        return notes

    def _defaults(self, spec: TableSpec) -> dict[str, str]:
        """SQL defaults of the columns that must not be empty: the schema's, and the spec's for
        the ones the schema leaves to the importer (a rep's role)."""
        rows = self.cur.execute(
            "SELECT column_name, column_default FROM information_schema.columns "
            "WHERE table_name = ? AND is_nullable = 'NO'",
            [spec.name],
        ).fetchall()
        out = {name: default for name, default in rows if default is not None and name not in spec.key}
        out.update({c.name: _text(c.default) for c in spec.columns if c.default is not None})
        return out

    def _insert(self, spec: TableSpec, source: str, columns: list[str], total: int) -> tuple[int, int]:
        """Update the rows whose key exists, insert the others. An empty cell in a column that
        must not be empty keeps the stored value on update and takes the default on insert."""
        key = list(spec.key)
        join = " AND ".join(f"t.{k} = s.{k}" for k in key)
        defaults = self._defaults(spec)
        existing = int(self._scalar(f"SELECT count(*) FROM {source} s JOIN {spec.name} t ON {join}"))
        updates = [c for c in columns if c not in key]
        if existing and updates:
            sets = ", ".join(
                f"{c} = coalesce(s.{c}, {spec.name}.{c})" if c in defaults else f"{c} = s.{c}" for c in updates
            )
            where = " AND ".join(f"{spec.name}.{k} = s.{k}" for k in key)
            self.cur.execute(f"UPDATE {spec.name} SET {sets} FROM {source} s WHERE {where}")
        filled = [
            c for c in defaults if c not in columns and any(col.name == c and col.default for col in spec.columns)
        ]
        if total > existing:
            names = columns + filled
            values = [f"coalesce(s.{c}, {defaults[c]})" if c in defaults else f"s.{c}" for c in columns]
            values += [defaults[c] for c in filled]
            anti = f"WHERE NOT EXISTS (SELECT 1 FROM {spec.name} t WHERE {join})" if existing else ""
            self.cur.execute(
                f"INSERT INTO {spec.name} ({', '.join(names)}) SELECT {', '.join(values)} FROM {source} s {anti}"
            )
        if spec.name == "bookings":
            # Bookings without region or segment take them from their account.
            self.cur.execute(
                f"""
                UPDATE bookings SET region = coalesce(bookings.region, a.region),
                                    segment = coalesce(bookings.segment, a.segment)
                FROM accounts a
                WHERE a.account_id = bookings.account_id
                  AND (bookings.region IS NULL OR bookings.segment IS NULL)
                  AND bookings.booking_id IN (SELECT booking_id FROM {source})
                """
            )
        return total - existing, existing


def _as_text(value: object) -> str:
    return "" if value is None or value != value else str(value)  # None and NaN are empty
