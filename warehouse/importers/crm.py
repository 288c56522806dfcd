"""CRM export formats (`--format salesforce|hubspot`): which kind each file is, in which order
files load, and reading plus mapping one file.

`run.import_files` calls `plan` before its transaction (so an unrecognised file fails before
anything is written) and `map_path` inside it. Each source module (`salesforce`, `hubspot`)
provides `SOURCE`, `KINDS`, `LOAD_ORDER`, `detect_kind` and `map_file`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import duckdb

from warehouse.errors import InputError
from warehouse.importers import hubspot, salesforce
from warehouse.importers.crm_common import MappedFile, known_headers
from warehouse.importers.reading import RawChunk, RawFile, normalize_header
from warehouse.importers.report_files import ReportFile, read_report

FORMATS: dict[str, ModuleType] = {"salesforce": salesforce, "hubspot": hubspot}


def read(path: Path, format: str) -> ReportFile:
    """The file's data rows, its header found among the headers `format`'s exports use."""
    return read_report(path, known_headers(FORMATS[format].KINDS.values()))


def _kind_of(report: ReportFile, source: ModuleType) -> str | None:
    sample = next(iter([c.frame for c in report.raw.chunks]), None)
    kind: str | None = source.detect_kind(report.raw.columns, sample, report.raw.path.name)
    return kind


def detect(path: Path, format: str) -> str:
    """The export kind of `path`, or an InputError listing the kinds `format` recognises."""
    source = FORMATS[format]
    report = read(path, format)
    kind = _kind_of(report, source)
    unsupported: dict[str, str] = getattr(source, "UNSUPPORTED", {})
    if kind in unsupported:
        raise InputError(f"{path.name} is a {source.SOURCE} {unsupported[kind]}")
    if kind is not None:
        return kind
    labels = ", ".join(k.label for k in source.KINDS.values())
    shown = ", ".join(report.raw.columns[:6]) + (", ..." if len(report.raw.columns) > 6 else "")
    hint = (
        f"Recognised {source.SOURCE} exports: {labels} (standard or custom reports with their default "
        "column headers; CSV or .xlsx; details-only or formatted)."
    )
    for other_format, other in FORMATS.items():
        if other is source:
            continue
        other_kind = _kind_of(read(path, other_format), other)
        if other_kind in other.KINDS:
            hint = (
                f"It looks like a {other.SOURCE} {other.KINDS[other_kind].label} export: use --format {other_format}."
            )
    raise InputError(
        f"{path.name} is not a {source.SOURCE} export spm recognises (headers: {shown or 'none'}).",
        hint,
    )


def plan(files: Sequence[Path], format: str) -> list[tuple[str, Path]]:
    """(kind, file) in load order: owners before what they own, accounts before their deals."""
    order = FORMATS[format].LOAD_ORDER
    kinds = [(detect(f, format), f) for f in files]
    return sorted(kinds, key=lambda kf: (order.index(kf[0]), str(kf[1])))


def _renamed(raw: RawFile, headers: dict[str, str], renames: dict[str, str]) -> RawFile:
    """The export with a mapping file's renames applied: a custom header (`Region__c`) renamed
    to the standard export header that means the column the mapping names (`region`)."""
    header_for: dict[str, str] = {}
    for header, column in headers.items():
        header_for.setdefault(column, header)
    new = {c: header_for.get(renames[normalize_header(c)], c) for c in raw.columns if normalize_header(c) in renames}
    if not new:
        return raw
    chunks = (RawChunk(c.frame.rename(columns=new), c.rows, c.ragged) for c in raw.chunks)
    return RawFile(raw.path, [new.get(c, c) for c in raw.columns], chunks)


def map_path(
    path: Path,
    format: str,
    kind: str,
    cur: duckdb.DuckDBPyConnection,
    today: str,
    renames: dict[str, str] | None = None,
) -> MappedFile:
    """Read `path` and map it as `kind`; the reader's notes (dropped report rows) come first.
    `renames` (a mapping file's entries for this kind) apply before the export's own headers."""
    report = read(path, format)
    source = FORMATS[format]
    raw = _renamed(report.raw, source.HEADER_MAPS.get(kind, {}), renames or {})
    mapped: MappedFile = source.map_file(raw, kind, cur, today)
    mapped.notes[:0] = report.notes
    return mapped
