"""Typing and validating import rows, vectorised over a chunk.

`coerce_chunk` turns a chunk of strings into typed columns and a table of rejections
(row, column, reason, value). A row with any rejection is not loaded; every rejection names
the column and a reason a user can act on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar
from warehouse.errors import InputError
from warehouse.importers.countries import country_code
from warehouse.importers.specs import Column, TableSpec

REJECTION_COLUMNS = ["file", "row", "column", "reason", "value"]
_BOOLS: dict[str, object] = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "x"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}
_INT = re.compile(r"^[+-]?\d+$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}")


@dataclass
class Members:
    """Dimension members: those in the warehouse, and the spellings this import introduces.

    Names match case-insensitively; a new name keeps the first spelling seen. Members are
    only created (by the loader) for names used by rows that are actually loaded.
    """

    existing: dict[str, dict[str, str]]  # table -> lower name -> stored name
    spelled: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, table: str, values: pd.Series) -> pd.Series:
        known = self.existing.setdefault(table, {})
        spelled = self.spelled.setdefault(table, {})
        mapping: dict[str, str] = {}
        for raw in values.dropna().unique():
            key = str(raw).lower()
            mapping[raw] = known.get(key) or spelled.setdefault(key, str(raw))
        return values.map(mapping).astype(object)

    def missing(self, table: str, names: list[str]) -> list[str]:
        known = self.existing.setdefault(table, {})
        return sorted({n for n in names if n.lower() not in known})

    def add(self, table: str, names: list[str]) -> None:
        self.existing.setdefault(table, {}).update({n.lower(): n for n in names})


@dataclass
class Coercer:
    """How to read values: the calendar for periods and the formats a source uses."""

    calendar: FiscalCalendar
    members: Members
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    money_style: Literal["plain", "report"] = "plain"


@dataclass
class Coerced:
    frame: pd.DataFrame  # typed values for the columns present
    bad: np.ndarray  # bool per row: rejected
    rejections: pd.DataFrame


class _Errors:
    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[tuple[np.ndarray, str, pd.Series | str]] = []

    def add(self, mask: np.ndarray, column: str, reason: pd.Series | str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.bad |= mask
            self.parts.append((mask, column, reason))


def _number_text(values: pd.Series, style: str) -> pd.Series:
    text = values.astype("string").str.strip()
    if style == "report":
        negative = text.str.match(r"^\(.*\)$", na=False)
        text = text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
        text = text.str.replace(r"^[A-Za-z]{3}\s+", "", regex=True)  # 'USD 1,200.00'
        text = text.str.replace(r"\s+[A-Za-z]{3}$", "", regex=True)
        text = text.where(~negative, "-" + text)
    return text.str.replace(r"[$€£,_\s]", "", regex=True)


def _to_number(values: pd.Series, present: np.ndarray, style: str) -> pd.Series:
    """Plain numbers parse on a fast path; only the rest go through the cleaning regexes."""
    plain = style == "plain"
    numbers = pd.to_numeric(values, errors="coerce").astype(float) if plain else pd.Series(np.nan, index=values.index)
    retry = present & np.isnan(numbers.to_numpy())
    if retry.any():
        cleaned = pd.to_numeric(_number_text(values[retry], style), errors="coerce")
        numbers[retry] = pd.Series(cleaned, dtype="Float64").to_numpy(dtype=float, na_value=np.nan)
    return numbers.where(np.isfinite(numbers))


def _to_date(values: pd.Series, present: np.ndarray, formats: tuple[str, ...]) -> pd.Series:
    """Dates in the first format parse on a fast path; the rest try the other formats."""
    out = pd.to_datetime(values, format=formats[0], errors="coerce")
    retry = present & np.isnat(out.to_numpy())
    if retry.any():
        text = values[retry].astype(str)
        text = text.str.extract(_ISO_DATETIME, expand=False).fillna(text)
        found = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        for fmt in formats:
            missing = found.isna()
            if not missing.any():
                break
            found[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
        out = out.astype("datetime64[ns]")
        out[retry] = found
    in_range = (out >= pd.Timestamp("1900-01-01")) & (out < pd.Timestamp("2200-01-01"))
    return out.where(in_range).dt.date


def _lookup(raw: pd.Series, present: np.ndarray, table: dict[str, object]) -> pd.Series:
    """Map through `table` (lower-case keys): exact spellings first, then case-folded."""
    exact = {
        **table,
        **{k.upper(): v for k, v in table.items()},
        **{k.title(): v for k, v in table.items()},
    }
    values = raw.map(exact)
    retry = present & values.isna().to_numpy()
    if retry.any():
        values[retry] = raw[retry].str.lower().map(table)
    return values


def coerce_column(col: Column, raw: pd.Series, coercer: Coercer, errors: _Errors) -> pd.Series:
    """Typed values of one column; invalid entries are recorded in `errors` and set to None."""
    present = raw.notna().to_numpy()
    name = col.name
    if col.required:
        errors.add(~present, name, "is required")
    kind = col.type
    if kind in ("id", "text", "zip"):
        return raw.astype(object)  # field length is capped by the reader
    if kind in ("int", "number", "money"):
        numbers = _to_number(raw, present, coercer.money_style)
        invalid = present & numbers.isna().to_numpy()
        errors.add(invalid, name, "is not a number" if kind != "int" else "is not a whole number")
        if kind == "int":
            fractional = present & ~invalid & (numbers != np.round(numbers)).fillna(False).to_numpy()
            errors.add(fractional, name, "is not a whole number")
        ok = present & ~invalid
        if col.minimum is not None:
            errors.add(
                ok & (numbers < col.minimum).fillna(False).to_numpy(),
                name,
                f"must be at least {col.minimum:g}",
            )
        if col.maximum is not None:
            errors.add(
                ok & (numbers > col.maximum).fillna(False).to_numpy(),
                name,
                f"must be at most {col.maximum:g}",
            )
        return numbers.astype(float).where(present, None)
    if kind == "date":
        dates = _to_date(raw, present, coercer.date_formats)
        fmts = " or ".join(
            f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD").replace("%y", "YY")
            for f in coercer.date_formats
        )
        errors.add(present & dates.isna().to_numpy(), name, f"is not a date ({fmts})")
        return dates
    if kind == "bool":
        values = _lookup(raw, present, _BOOLS).astype(object)
        errors.add(present & values.isna().to_numpy(), name, "is not true/false")
        return values.where(values.notna(), None)
    if kind == "enum":
        canonical = {v.lower(): v for v in col.synonyms.values()}
        values = _lookup(raw, present, {**canonical, **col.synonyms})
        allowed = ", ".join(sorted(set(col.synonyms.values())))
        errors.add(present & values.isna().to_numpy(), name, f"must be one of: {allowed}")
        return values.astype(object)
    if kind == "period":
        parsed: dict[str, str | None] = {}
        for value in raw.dropna().unique():
            try:
                parsed[value] = coercer.calendar.parse(value).name
            except InputError:
                parsed[value] = None
        values = raw.map(parsed)
        errors.add(
            present & values.isna().to_numpy(),
            name,
            "is not a fiscal period (FY2027, FY2027-H1, FY2027-Q2 or 2026-09)",
        )
        return values.astype(object)
    if kind == "dimension":
        values = raw.copy()
        if col.allow_all:
            is_all = raw.str.lower().eq("all").fillna(False)
            values = values.mask(is_all, None)
            resolved = coercer.members.resolve(col.dimension or "", values)
            return resolved.mask(is_all, "All").where(present, "All")
        return coercer.members.resolve(col.dimension or "", values).astype(object)
    if kind == "country":
        codes = raw.map(lambda v: country_code(v) if isinstance(v, str) else None)
        errors.add(
            present & codes.isna().to_numpy(),
            name,
            "is not a country (use an ISO code such as US, GB, DE)",
        )
        return codes.astype(object)
    if kind == "json":

        def parse(value: object) -> object:
            try:
                return json.loads(value) if isinstance(value, str) else None
            except ValueError:
                return _INVALID

        parsed_json = raw.map(parse)
        errors.add(present & parsed_json.map(lambda v: v is _INVALID).to_numpy(), name, "is not valid JSON")
        return raw.astype(object).where(parsed_json.map(lambda v: v is not _INVALID), None)
    raise AssertionError(f"unhandled column type {kind}")


_INVALID = object()


def _pad_us_zips(frame: pd.DataFrame, zip_col: str, country_col: str | None) -> None:
    """Spreadsheets drop leading zeros and add ZIP+4: '2139' and '02139-4307' are '02139'."""
    if zip_col not in frame:
        return
    zips = frame[zip_col]
    us = frame[country_col].eq("US") if country_col and country_col in frame else zips.notna()
    digits = zips.str.fullmatch(r"\d{3,4}").fillna(False) & us
    plus4 = zips.str.fullmatch(r"\d{5}-\d{4}").fillna(False) & us
    frame.loc[digits, zip_col] = zips[digits].str.zfill(5)
    frame.loc[plus4, zip_col] = zips[plus4].str[:5]


def _cross_field_rules(spec: TableSpec, frame: pd.DataFrame, errors: _Errors) -> None:
    def both(a: str, b: str) -> np.ndarray:
        return (
            (frame[a].notna() & frame[b].notna()).to_numpy()
            if a in frame and b in frame
            else np.zeros(len(frame), bool)
        )

    if spec.name == "reps":
        m = both("hire_date", "end_date")
        bad = m & (frame["end_date"].where(m, None) < frame["hire_date"].where(m, None)).fillna(False).to_numpy()
        errors.add(bad, "end_date", "is before hire_date")
    if spec.name == "opportunities":
        m = both("created_date", "close_date")
        bad = m & (frame["close_date"].where(m, None) < frame["created_date"].where(m, None)).fillna(False).to_numpy()
        errors.add(bad, "close_date", "is before created_date")
        m = both("is_won", "is_closed")
        bad = (
            m
            & (
                frame["is_won"].where(m, False).astype(bool) & ~frame["is_closed"].where(m, True).astype(bool)
            ).to_numpy()
        )
        errors.add(bad, "is_won", "is true but is_closed is false")
    if spec.name == "comp_plans" and "accelerators" in frame:

        def tiers_ok(value: object) -> bool:
            if not isinstance(value, str):  # empty, or already rejected as invalid JSON
                return True
            tiers = json.loads(value)
            if not isinstance(tiers, list):
                return False
            try:
                starts = [float(t["from"]) for t in tiers]
                mults = [float(t["multiplier"]) for t in tiers]
            except (KeyError, TypeError, ValueError):
                return False
            return starts == sorted(starts) and all(m >= 0 for m in mults)

        bad = ~frame["accelerators"].map(tiers_ok).to_numpy(dtype=bool)
        errors.add(
            bad,
            "accelerators",
            'must be a list of {"from": attainment, "multiplier": m} sorted by "from"',
        )


def coerce_chunk(spec: TableSpec, raw: pd.DataFrame, rows: np.ndarray, file: str, coercer: Coercer) -> Coerced:
    errors = _Errors(len(raw))
    typed = pd.DataFrame(index=raw.index)
    for col in spec.columns:
        if col.name in raw:
            typed[col.name] = coerce_column(col, raw[col.name], coercer, errors)
        elif col.type == "dimension" and col.allow_all:
            typed[col.name] = "All"
    _pad_us_zips(typed, "zip", "country")
    _pad_us_zips(typed, "home_zip", "home_country")
    _cross_field_rules(spec, typed, errors)
    frames = []
    for mask, column, reason in errors.parts:
        frames.append(
            pd.DataFrame(
                {
                    "file": file,
                    "row": rows[mask],
                    "column": column,
                    "reason": reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason,
                    "value": raw[column].to_numpy()[mask] if column in raw else None,
                }
            )
        )
    rejections = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECTION_COLUMNS)
    return Coerced(frame=typed, bad=errors.bad, rejections=rejections)


def rejection_frame(
    file: str,
    rows: list[int] | np.ndarray,
    column: str | None,
    reasons: list[str] | str,
    values: list | None = None,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": file,
            "row": np.asarray(rows, dtype=np.int64),
            "column": column,
            "reason": reasons,
            "value": values,
        }
    )
