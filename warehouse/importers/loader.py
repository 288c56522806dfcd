"""Loading validated rows into one table: references, keys, dimension members, upsert.

A `TableLoader` works inside the import's single transaction: it rejects rows that refer to
what does not exist, rows repeating a key within the file, creates dimension members used by
loaded rows, and upserts on the table's key (so a re-import updates, never duplicates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from warehouse.importers.reading import RawChunk
from warehouse.importers.specs import TableSpec
from warehouse.importers.validate import REJECTION_COLUMNS, Coercer, coerce_chunk, rejection_frame

DIMENSION_TABLES = ("regions", "segments", "products")


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


def _reject(rows: np.ndarray, mask: np.ndarray, file: str, column: str, reasons, values) -> pd.DataFrame:
    return rejection_frame(file, rows[mask], column, reasons, values)


class TableLoader:
    def __init__(self, cur: duckdb.DuckDBPyConnection, coercer: Coercer) -> None:
        self.cur = cur
        self.coercer = coercer
        self.created: dict[str, list[str]] = {}
        self._stages: dict[str, tuple[str, bool, bool]] | None = None

    # --- lookups ------------------------------------------------------------------------

    def stages(self) -> dict[str, tuple[str, bool, bool]]:
        """lower name -> (name, is_closed, is_won), reloaded after the stages table changes."""
        if self._stages is None:
            rows = self.cur.execute("SELECT name, is_closed, is_won FROM stages").fetchall()
            self._stages = {name.lower(): (name, closed, won) for name, closed, won in rows}
        return self._stages

    def _missing_refs(self, values: pd.Series, table: str, column: str) -> np.ndarray:
        """Mask of values that do not exist as `table.column`."""
        present = values.notna().to_numpy()
        if not present.any():
            return np.zeros(len(values), dtype=bool)
        probe = pd.DataFrame({"v": values[present].astype(str).unique()})
        self.cur.register("_import_probe", probe)
        try:
            missing = {
                r[0]
                for r in self.cur.execute(
                    f"SELECT v FROM _import_probe WHERE v NOT IN (SELECT {column} FROM {table})"
                ).fetchall()
            }
        finally:
            self.cur.unregister("_import_probe")
        return present & values.isin(missing).to_numpy()

    # --- loading ------------------------------------------------------------------------

    def load(
        self, spec: TableSpec, columns: list[str], chunks: Iterable[RawChunk], file: str
    ) -> tuple[FileReport, pd.DataFrame]:
        report = FileReport(file=file, table=spec.name)
        known = {c.name for c in spec.columns}
        report.ignored_columns = [c for c in columns if c not in known]
        missing_required = [c for c in spec.required if c not in columns]
        rejections: list[pd.DataFrame] = []
        valid_frames: list[pd.DataFrame] = []
        for chunk in chunks:
            report.read += len(chunk.frame) + len(chunk.ragged)
            if chunk.ragged:
                rows, reasons = zip(*chunk.ragged, strict=True)
                rejections.append(rejection_frame(file, list(rows), None, list(reasons)))
            if chunk.frame.empty:
                continue
            if missing_required:
                reason = f"the file has no {', '.join(missing_required)} column (required)"
                rejections.append(rejection_frame(file, chunk.rows, missing_required[0], reason))
                continue
            coerced = coerce_chunk(spec, chunk.frame, chunk.rows, file, self.coercer)
            rejections.append(coerced.rejections)
            good = coerced.frame[~coerced.bad].copy()
            good["_row"] = chunk.rows[~coerced.bad]
            valid_frames.append(good)

        frame = pd.concat(valid_frames, ignore_index=True) if valid_frames else pd.DataFrame()
        if not frame.empty:
            frame, extra = self._table_rules(spec, frame, file)
            rejections.extend(extra)
            frame, extra = self._dedupe_keys(spec, frame, file)
            rejections.extend(extra)
        if not frame.empty:
            self._create_members(spec, frame)
            report.inserted, report.updated = self._upsert(spec, frame)
            report.loaded = len(frame)
        rejected = (
            pd.concat([r for r in rejections if not r.empty], ignore_index=True)
            if any(not r.empty for r in rejections)
            else pd.DataFrame(columns=REJECTION_COLUMNS)
        )
        report.rejected = int(rejected["row"].nunique()) if not rejected.empty else 0
        return report, rejected

    def _table_rules(self, spec: TableSpec, frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        rows = frame["_row"].to_numpy()
        out: list[pd.DataFrame] = []
        bad = np.zeros(len(frame), dtype=bool)

        if spec.name in ("opportunities", "opportunity_history"):
            stages = self.stages()
            lowered = frame["stage"].str.lower()
            unknown = ~lowered.isin(stages.keys()).to_numpy()
            if unknown.any():
                names = ", ".join(v[0] for v in stages.values()) or "none yet"
                out.append(
                    _reject(
                        rows,
                        unknown,
                        file,
                        "stage",
                        f"is not a known stage (known: {names}); add it to stages.csv",
                        frame["stage"].to_numpy()[unknown],
                    )
                )
                bad |= unknown
            frame["stage"] = lowered.map({k: v[0] for k, v in stages.items()}).fillna(frame["stage"])
            if spec.name == "opportunities":
                stage_closed = lowered.map({k: v[1] for k, v in stages.items()})
                stage_won = lowered.map({k: v[2] for k, v in stages.items()})
                for column, derived in (("is_closed", stage_closed), ("is_won", stage_won)):
                    if column not in frame:
                        frame[column] = derived
                        continue
                    given = frame[column]
                    conflict = (given.notna() & derived.notna() & (given != derived)).to_numpy() & ~unknown
                    if conflict.any():
                        reasons = [
                            f"is {g} but stage '{s}' has {column} = {d}"
                            for g, s, d in zip(
                                given[conflict],
                                frame["stage"][conflict],
                                derived[conflict],
                                strict=True,
                            )
                        ]
                        out.append(_reject(rows, conflict, file, column, reasons, given.to_numpy()[conflict]))
                        bad |= conflict
                    frame[column] = given.where(given.notna(), derived)
                missing_acc = self._missing_refs(frame["account_id"], "accounts", "account_id")
                if missing_acc.any():
                    out.append(
                        _reject(
                            rows,
                            missing_acc,
                            file,
                            "account_id",
                            "does not exist; import accounts.csv first or in the same command",
                            frame["account_id"].to_numpy()[missing_acc],
                        )
                    )
                    bad |= missing_acc
            else:
                missing_opp = self._missing_refs(frame["opp_id"], "opportunities", "opp_id")
                if missing_opp.any():
                    out.append(
                        _reject(
                            rows,
                            missing_opp,
                            file,
                            "opp_id",
                            "does not exist; import opportunities first or in the same command",
                            frame["opp_id"].to_numpy()[missing_opp],
                        )
                    )
                    bad |= missing_opp

        if spec.name == "bookings":
            if "booking_id" not in frame:
                frame["booking_id"] = None
            missing_id = frame["booking_id"].isna()
            if missing_id.any():
                frame.loc[missing_id, "booking_id"] = _derived_booking_ids(frame[missing_id])

        if spec.name == "stages":
            won_open = (frame["is_won"].astype(bool) & ~frame["is_closed"].astype(bool)).to_numpy()
            if won_open.any():
                out.append(
                    _reject(
                        rows,
                        won_open,
                        file,
                        "is_won",
                        "is true but is_closed is false",
                        frame["is_won"].to_numpy()[won_open],
                    )
                )
                bad |= won_open
            self._stages = None

        return frame[~bad].reset_index(drop=True), out

    def _dedupe_keys(self, spec: TableSpec, frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        key = list(spec.key)
        dup = frame.duplicated(key, keep="first").to_numpy()
        if not dup.any():
            return frame, []
        first_row = frame.groupby(key, sort=False, dropna=False)["_row"].transform("first")
        reasons = [f"repeats the key of row {r}" for r in first_row[dup]]
        shown = frame[key].astype(str).agg("/".join, axis=1).to_numpy()[dup]
        rejected = rejection_frame(file, frame["_row"].to_numpy()[dup], key[0], reasons, list(shown))
        return frame[~dup].reset_index(drop=True), [rejected]

    def _create_members(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        for col in spec.columns:
            if col.type != "dimension" or col.name not in frame or not col.dimension:
                continue
            names = [n for n in frame[col.name].dropna().unique().tolist() if n != "All" or not col.allow_all]
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
            self.coercer.members.add(spec.name, frame["name"].tolist())

    def _scalar(self, sql: str) -> Any:
        row = self.cur.execute(sql).fetchone()
        assert row is not None  # an aggregate always returns a row
        return row[0]

    def _upsert(self, spec: TableSpec, frame: pd.DataFrame) -> tuple[int, int]:
        columns = [c.name for c in spec.columns if c.name in frame]
        source = frame[columns]
        key = list(spec.key)
        self.cur.register("_import_source", source)
        try:
            join = " AND ".join(f"t.{k} = s.{k}" for k in key)
            existing = self._scalar(f"SELECT count(*) FROM _import_source s JOIN {spec.name} t ON {join}")
            cols = ", ".join(columns)
            updates = [c for c in columns if c not in key]
            action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates) if updates else "DO NOTHING"
            self.cur.execute(
                f"INSERT INTO {spec.name} ({cols}) SELECT {cols} FROM _import_source "
                f"ON CONFLICT ({', '.join(key)}) {action}"
            )
            if spec.name == "bookings":
                # Bookings without region or segment take them from their account.
                self.cur.execute(
                    """
                    UPDATE bookings SET region = coalesce(bookings.region, a.region),
                                        segment = coalesce(bookings.segment, a.segment)
                    FROM accounts a
                    WHERE a.account_id = bookings.account_id
                      AND (bookings.region IS NULL OR bookings.segment IS NULL)
                      AND bookings.booking_id IN (SELECT booking_id FROM _import_source)
                    """
                )
        finally:
            self.cur.unregister("_import_source")
        return len(source) - int(existing), int(existing)


def _as_text(value: object) -> str:
    return "" if value is None or value != value else str(value)  # None and NaN are empty


def _derived_booking_ids(frame: pd.DataFrame) -> list[str]:
    """Stable ids from the row content; identical rows in one file are told apart by order."""
    parts = [
        c
        for c in (
            "date",
            "amount",
            "region",
            "segment",
            "product",
            "rep_id",
            "account_id",
            "opp_id",
        )
        if c in frame
    ]
    text = frame[parts].apply(lambda col: col.map(_as_text)).agg("|".join, axis=1)
    occurrence = text.groupby(text).cumcount()
    return ["B-" + hashlib.sha1(f"{t}#{n}".encode()).hexdigest()[:16] for t, n in zip(text, occurrence, strict=True)]
